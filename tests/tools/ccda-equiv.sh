#!/usr/bin/env bash
# ccda-equiv.sh - check that a change to the C-CDA adapter (its readers,
# ccda_fast.c and the libxml2 route of ccda_xml.c, or its normalizer) kept
# its behaviour byte for byte: everything tests/bench/ccda_equiv.c prints
# (return code, error field, offset and message, message id, canonical
# events) over the test documents, the fuzz seeds and thousands of mutated
# documents, from the adapter of commit OLD_REF and from this tree, with
# the reader's SSE2 loops and with its byte-by-byte loops alone.
#
# Usage: tests/tools/ccda-equiv.sh [OLD_REF]      (default: main)
# Knobs: CCDA_EQUIV_MUTANTS (default 20000), CCDA_EQUIV_SEED (default 1)
# Exit 0 when all outputs are equal; else prints the first difference.
# shellcheck disable=SC2086  # flags are meant to split
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

old_ref=${1:-main}
git rev-parse --verify -q "$old_ref^{commit}" >/dev/null ||
    { echo "ccda-equiv: no commit $old_ref" >&2; exit 2; }
mutants=${CCDA_EQUIV_MUTANTS:-20000}
seed=${CCDA_EQUIV_SEED:-1}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CC=${CC:-cc}
CFLAGS="-O2 -g -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall
-Wextra -Werror -Wshadow -Wvla -Wformat=2"
PKG=$(pkg-config --cflags libcjson libxml-2.0 2>/dev/null || true)
LIBS=$(pkg-config --libs libcjson libxml-2.0 2>/dev/null || echo "-lcjson -lxml2")

# build TREE_DIR OUT [EXTRA_CFLAGS]: the adapters of TREE_DIR and this
# tree's dictionary reader, with the dump tool of this tree
build() {
    local src=$1 out=$2 extra=${3:-} objs=()
    mkdir -p "$out"
    for f in "$src"/adapters/*/*.c; do
        local o
        o="$out/$(basename "$(dirname "$f")")_$(basename "$f" .c).o"
        $CC $CFLAGS $extra $PKG -I"$src/adapters" -c "$f" -o "$o"
        objs+=("$o")
    done
    ar rcs "$out/lib.a" "${objs[@]}"
    $CC $CFLAGS $PKG -I"$src/adapters" -Ihub tests/bench/ccda_equiv.c \
        hub/dict_files.c "$out/lib.a" $LIBS -lm -pthread -o "$out/ccda_equiv"
}

mkdir -p "$tmp/old_src"
git archive "$old_ref" adapters | tar -x -C "$tmp/old_src"
build "$tmp/old_src" "$tmp/old"
build "$root" "$tmp/new"
build "$root" "$tmp/bytes" -DCCDA_FAST_NO_SIMD

inputs=(-m "$mutants" -s "$seed" tests/data/ccda/*.xml tests/data/ccda/*.ccda
        tests/fuzz/corpus/ccda/*.xml tests/fuzz/corpus/ccda_tree/*.xml)
rc=0
"$tmp/old/ccda_equiv" "${inputs[@]}" >"$tmp/old.out"
for v in new bytes; do
    "$tmp/$v/ccda_equiv" "${inputs[@]}" >"$tmp/$v.out"
    if cmp -s "$tmp/old.out" "$tmp/$v.out"; then
        echo "ccda-equiv: $v = $old_ref ($(grep -c '^== ' "$tmp/old.out") documents, $(grep -c '^== .* rc=0' "$tmp/old.out") read, $(wc -c <"$tmp/old.out") bytes)"
    else
        echo "ccda-equiv: $v differs from $old_ref:" >&2
        diff "$tmp/old.out" "$tmp/$v.out" | head -20 >&2 || true
        rc=1
    fi
done
exit $rc
