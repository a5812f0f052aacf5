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
mutants=${CCDA_EQUIV_MUTANTS:-20000}
seed=${CCDA_EQUIV_SEED:-1}

. tests/tools/equiv-lib.sh
equiv_setup ccda-equiv "$old_ref"
equiv_build "$tmp/old_src" "$tmp/old" ccda_equiv
equiv_build "$root" "$tmp/new" ccda_equiv
equiv_build "$root" "$tmp/bytes" ccda_equiv -DCCDA_FAST_NO_SIMD

inputs=(-m "$mutants" -s "$seed" tests/data/ccda/*.xml tests/data/ccda/*.ccda
        tests/fuzz/corpus/ccda/*.xml tests/fuzz/corpus/ccda_tree/*.xml)
rc=0
equiv_old "$tmp/old/ccda_equiv" "${inputs[@]}" >"$tmp/old.out"
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
