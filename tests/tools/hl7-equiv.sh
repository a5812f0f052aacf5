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
nmsg=${HL7_EQUIV_MESSAGES:-20000}
mutants=${HL7_EQUIV_MUTANTS:-30000}
seed=${HL7_EQUIV_SEED:-1}

. tests/tools/equiv-lib.sh
equiv_setup hl7-equiv "$old_ref"
equiv_build "$tmp/old_src" "$tmp/old" hl7_equiv
equiv_build "$root" "$tmp/new" hl7_equiv
equiv_build "$root" "$tmp/sse2" hl7_equiv -DHL7_SCAN_NO_AVX2

$CC $CFLAGS tests/bench/gen_adt.c -o "$tmp/gen_adt"
"$tmp/gen_adt" -n "$nmsg" -s 42 -o "$tmp/adt.hl7" 2>/dev/null
inputs=(-l "$tmp/adt.hl7" -m "$mutants" -s "$seed" tests/data/hl7v2/*.hl7)
# shellcheck disable=SC2206  # a list of paths
[ -n "${HL7_EQUIV_EXTRA:-}" ] && inputs+=($HL7_EQUIV_EXTRA)

rc=0
# the old adapters with the old ref's dictionary (its reader may refuse
# a table or member this tree added)
equiv_old "$tmp/old/hl7_equiv" "${inputs[@]}" >"$tmp/old.out"
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
