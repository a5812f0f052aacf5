#!/usr/bin/env bash
# fhir-equiv.sh - check that a change to the FHIR adapter (or to the JSON
# parse it stands on) kept its behaviour byte for byte: everything
# tests/bench/fhir_equiv.c prints (return code, error field, offset and
# message, the result with each entry's status, error and warning paths,
# canonical events) over the test bodies, the real samples, the fuzz
# seeds and thousands of mutated bodies, from the adapter of commit
# OLD_REF and from this tree.
#
# Usage: tests/tools/fhir-equiv.sh [OLD_REF]      (default: main)
# Knobs: FHIR_EQUIV_MUTANTS (default 20000), FHIR_EQUIV_SEED (default 1)
# Exit 0 when all outputs are equal; else prints the first difference.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

old_ref=${1:-main}
mutants=${FHIR_EQUIV_MUTANTS:-20000}
seed=${FHIR_EQUIV_SEED:-1}

. tests/tools/equiv-lib.sh
equiv_setup fhir-equiv "$old_ref"
equiv_build "$tmp/old_src" "$tmp/old" fhir_equiv
equiv_build "$root" "$tmp/new" fhir_equiv

mapfile -t bodies < <(find tests/data/fhir tests/data/real/fhir \
    tests/fuzz/corpus/fhir -type f \( -name '*.json' -o -path '*corpus*' \) \
    ! -name '*.events.json' ! -name '*.err.json' ! -name '*.result.json' \
    ! -name '*.outcome.json' |
    LC_ALL=C sort)
inputs=(-m "$mutants" -s "$seed" "${bodies[@]}")
equiv_old "$tmp/old/fhir_equiv" "${inputs[@]}" >"$tmp/old.out"
"$tmp/new/fhir_equiv" "${inputs[@]}" >"$tmp/new.out"
if cmp -s "$tmp/old.out" "$tmp/new.out"; then
    echo "fhir-equiv: new = $old_ref ($(grep -c '^== ' "$tmp/old.out") bodies, $(grep -c '^== .* rc=0' "$tmp/old.out") read, $(grep -c '^  warn ' "$tmp/old.out") warnings, $(wc -c <"$tmp/old.out") bytes)"
    exit 0
fi
echo "fhir-equiv: new differs from $old_ref:" >&2
diff "$tmp/old.out" "$tmp/new.out" | head -20 >&2 || true
exit 1
