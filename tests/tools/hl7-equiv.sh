#!/usr/bin/env bash
# hl7-equiv.sh - check that a change to the HL7 v2 adapter (or to the JSON
# writer under it) kept its behaviour byte for byte: everything
# tests/bench/hl7_equiv.c prints (parse errors, canonical events,
# accessors, ACKs) over the bench corpus, the goldens, and thousands of
# mutated and hostile messages, from the adapter of commit OLD_REF and from
# this tree, on the AVX2 and the SSE2 scan paths of this tree.
#
# Usage: tests/tools/hl7-equiv.sh [OLD_REF]      (default: main)
# Knobs: HL7_EQUIV_MESSAGES (bench corpus, default 20000),
#        HL7_EQUIV_MUTANTS (default 30000), HL7_EQUIV_SEED (default 1),
#        HL7_EQUIV_EXTRA (more message files, one message each)
# Exit 0 when all outputs are equal; else prints the first difference.
# shellcheck disable=SC2046,SC2086  # flags are meant to split
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

old_ref=${1:-main}
git rev-parse --verify -q "$old_ref^{commit}" >/dev/null ||
    { echo "hl7-equiv: no commit $old_ref" >&2; exit 2; }
nmsg=${HL7_EQUIV_MESSAGES:-20000}
mutants=${HL7_EQUIV_MUTANTS:-30000}
seed=${HL7_EQUIV_SEED:-1}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CC=${CC:-cc}
CFLAGS="-O2 -g -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall
-Wextra -Werror -Wshadow -Wvla -Wformat=2"
PKG=$(pkg-config --cflags libcjson libxml-2.0 2>/dev/null || true)

# build TREE_DIR OUT [EXTRA_CFLAGS]: the adapter of TREE_DIR, with the
# dump tool of this tree
build() {
    local src=$1 out=$2 extra=${3:-} objs=()
    mkdir -p "$out"
    for f in "$src"/adapters/common/*.c "$src"/adapters/hl7v2/*.c; do
        local o
        o="$out/$(basename "$(dirname "$f")")_$(basename "$f" .c).o"
        $CC $CFLAGS $extra $PKG -I"$src/adapters" -c "$f" -o "$o"
        objs+=("$o")
    done
    ar rcs "$out/lib.a" "${objs[@]}"
    $CC $CFLAGS -I"$src/adapters" tests/bench/hl7_equiv.c "$out/lib.a" \
        -o "$out/hl7_equiv"
}

mkdir -p "$tmp/old_src"
git archive "$old_ref" adapters | tar -x -C "$tmp/old_src"
build "$tmp/old_src" "$tmp/old"
build "$root" "$tmp/new"
build "$root" "$tmp/sse2" -DHL7_SCAN_NO_AVX2

$CC $CFLAGS tests/bench/gen_adt.c -o "$tmp/gen_adt"
"$tmp/gen_adt" -n "$nmsg" -s 42 -o "$tmp/adt.hl7" 2>/dev/null
inputs=(-l "$tmp/adt.hl7" -m "$mutants" -s "$seed" tests/data/hl7v2/*.hl7)
# shellcheck disable=SC2206  # a list of paths
[ -n "${HL7_EQUIV_EXTRA:-}" ] && inputs+=($HL7_EQUIV_EXTRA)

rc=0
"$tmp/old/hl7_equiv" "${inputs[@]}" >"$tmp/old.out"
for v in new sse2; do
    "$tmp/$v/hl7_equiv" "${inputs[@]}" >"$tmp/$v.out"
    if cmp -s "$tmp/old.out" "$tmp/$v.out"; then
        echo "hl7-equiv: $v = $old_ref ($(grep -c '^#' "$tmp/old.out") messages, $(wc -c <"$tmp/old.out") bytes)"
    else
        echo "hl7-equiv: $v differs from $old_ref:" >&2
        diff "$tmp/old.out" "$tmp/$v.out" | head -20 >&2 || true
        rc=1
    fi
done
exit $rc
