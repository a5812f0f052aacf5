# equiv-lib.sh - what hl7-equiv.sh, ccda-equiv.sh and csv-equiv.sh share
# (sourced, not run): the old tree's adapters unpacked, and one build of
# an adapter set with a dump tool, so the old and new outputs are made by
# the same tool and compared byte for byte.
#
#   equiv_setup NAME OLD_REF   checks OLD_REF, makes $tmp (removed at exit),
#                              unpacks OLD_REF's adapters/ and schemas/dict
#                              in $tmp/old_src
#   equiv_old TOOL ARGS...     runs an old tool in $tmp/old_root, where
#                              schemas/ is OLD_REF's (its dictionary reader
#                              may not know a table this tree added) and
#                              tests/ is this tree's (the same inputs)
#   equiv_build SRC OUT TOOL [EXTRA_CFLAGS]
#                              SRC's adapters and this tree's dictionary
#                              reader, linked with tests/bench/TOOL.c of this
#                              tree into OUT/TOOL
# shellcheck shell=bash disable=SC2086  # flags are meant to split

CC=${CC:-cc}
CFLAGS="-O2 -g -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall
-Wextra -Werror -Wshadow -Wvla -Wformat=2"
PKG=$(pkg-config --cflags libcjson libxml-2.0 2>/dev/null || true)
LIBS=$(pkg-config --libs libcjson libxml-2.0 2>/dev/null || echo "-lcjson -lxml2")

equiv_setup() {
    local name=$1 ref=$2
    git rev-parse --verify -q "$ref^{commit}" >/dev/null ||
        { echo "$name: no commit $ref" >&2; exit 2; }
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/old_src"
    git archive "$ref" adapters schemas/dict | tar -x -C "$tmp/old_src"
    mkdir -p "$tmp/old_root"
    ln -s "$tmp/old_src/schemas" "$tmp/old_root/schemas"
    ln -s "$root/tests" "$tmp/old_root/tests"
    # inputs named from the root's parent (csv-equiv's ../shared/corpus)
    [ -d "$root/../shared" ] && ln -s "$(cd "$root/../shared" && pwd)" "$tmp/shared"
    return 0
}

equiv_old() {
    (cd "$tmp/old_root" && "$@")
}

equiv_build() {
    local src=$1 out=$2 tool=$3 extra=${4:-} objs=()
    mkdir -p "$out"
    for f in "$src"/adapters/*/*.c; do
        local o
        o="$out/$(basename "$(dirname "$f")")_$(basename "$f" .c).o"
        $CC $CFLAGS $extra $PKG -I"$src/adapters" -c "$f" -o "$o"
        objs+=("$o")
    done
    ar rcs "$out/lib.a" "${objs[@]}"
    $CC $CFLAGS $PKG -I"$src/adapters" -Ihub "tests/bench/$tool.c" \
        hub/dict_files.c "$out/lib.a" $LIBS -lm -pthread -o "$out/$tool"
}
