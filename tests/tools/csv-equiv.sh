#!/usr/bin/env bash
# csv-equiv.sh - check that a change to the CSV adapter (its reader, its
# layouts, or the dictionary lookups and JSON writer they use) kept its
# behaviour byte for byte: everything tests/bench/csv_equiv.c prints (return
# code, error field, the report, rejected rows, canonical events) over the
# test files, the benchmark's grown screenings file and mutated copies of
# them all, and the real samples (tests/data/real, ../shared/corpus/csv)
# as they are, from the adapters of commit OLD_REF and from this tree.
#
# Usage: tests/tools/csv-equiv.sh [OLD_REF]      (default: main)
# Knobs: CSV_EQUIV_MUTANTS (default 1500 per kind), CSV_EQUIV_SEED (default 1),
# CSV_EQUIV_CORPUS (the shared corpus; default ../shared/corpus/csv)
# Exit 0 when all outputs are equal; else prints the first difference.
# shellcheck disable=SC2086  # flags are meant to split
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

old_ref=${1:-main}
mutants=${CSV_EQUIV_MUTANTS:-1500}
seed=${CSV_EQUIV_SEED:-1}

. tests/tools/equiv-lib.sh
equiv_setup csv-equiv "$old_ref"
equiv_build "$tmp/old_src" "$tmp/old" csv_equiv
equiv_build "$root" "$tmp/new" csv_equiv

# the benchmark's input: the screenings sample grown (as tests/bench/run.sh)
mkdir -p "$tmp/in"
tests/bench/csv_grow.sh tests/data/csv/screenings-simple.csv 60 \
    >"$tmp/in/screenings-big.csv"

# mutants: bytes deleted, duplicated, or replaced by the reader's specials
python3 - "$tmp/in" "$mutants" "$seed" <<'PY'
import os, random, sys, shutil
out, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
special = [b'"', b',', b'\r', b'\n', b'\r\n', b'\0', b'""', b' ', b'\xef\xbb\xbf',
           b'X', b'y', b'POS', b'n', b'M', b'-', b'1', b'9', b'\xc3\xa9', b'\\']
def mutate(b):
    b = bytearray(b)
    for _ in range(rnd.randint(1, 4)):
        if not b:
            break
        at = rnd.randrange(len(b))
        op = rnd.randrange(4)
        if op == 0:
            del b[at:at + rnd.randint(1, 8)]
        elif op == 1:
            b[at:at] = rnd.choice(special)
        elif op == 2:
            b[at:at + 1] = rnd.choice(special)
        else:
            e = min(len(b), at + rnd.randint(1, 200))
            b[at:at] = b[at:e]
    return bytes(b)
singles = [('screenings', 'tests/data/csv/screenings-simple.csv'),
           ('screenings', os.path.join(out, 'screenings-big.csv')),
           ('referral-status', 'tests/data/csv/referral-status-simple.csv')]
sets = [d for d in sorted(os.listdir('tests/data/csv'))
        if d.startswith('shinny-') and os.path.isdir('tests/data/csv/' + d)]
args = []
for kind, path in singles:
    args.append(f'{kind}={path}')
for d in sets:
    args.append(f'shinny=tests/data/csv/{d}')
for i in range(n):
    for kind, path in singles:
        if 'big' in path and i % 20:
            continue            # the grown file: a few mutants (its output is large)
        src = open(path, 'rb').read()
        m = os.path.join(out, f'm{i}-{kind}.csv')
        open(m, 'wb').write(mutate(src))
        args.append(f'{kind}={m}')
    for d in sets:
        md = os.path.join(out, f'm{i}-{d}')
        shutil.copytree('tests/data/csv/' + d, md)
        files = sorted(os.listdir(md))
        f = os.path.join(md, rnd.choice(files))
        open(f, 'wb').write(mutate(open(f, 'rb').read()))
        args.append(f'shinny={md}')
open(os.path.join(out, 'args'), 'w').write('\n'.join(args) + '\n')
PY
mapfile -t inputs <"$tmp/in/args"
# and every other CSV file of the tree (real samples) and of the shared
# corpus (../shared/corpus/csv, when it is there), unmutated: each file as
# every kind, each directory of CSV files as a shinny set
others=(tests/data/real)
corpus=${CSV_EQUIV_CORPUS:-../shared/corpus/csv}
[ -d "$corpus" ] && others+=("$corpus")
while IFS= read -r f; do
    for k in screenings referral-status shinny; do inputs+=("$k=$f"); done
done < <(find "${others[@]}" -iname '*.csv' | sort)
while IFS= read -r d; do
    [ -z "$(find "$d" -maxdepth 1 -type f ! -iname '*.csv')" ] &&
        inputs+=("shinny=$d")
done < <(find "${others[@]}" -iname '*.csv' -printf '%h\n' | sort -u)
rc=0
equiv_old "$tmp/old/csv_equiv" "${inputs[@]}" >"$tmp/old.out"
"$tmp/new/csv_equiv" "${inputs[@]}" >"$tmp/new.out"
if cmp -s "$tmp/old.out" "$tmp/new.out"; then
    echo "csv-equiv: new = $old_ref (${#inputs[@]} uploads, $(grep -c '^== .* rc=0 ' "$tmp/old.out") read, $(grep -c '^event ' "$tmp/old.out") events, $(wc -c <"$tmp/old.out") bytes)"
else
    echo "csv-equiv: new differs from $old_ref:" >&2
    diff "$tmp/old.out" "$tmp/new.out" | head -20 >&2 || true
    rc=1
fi
exit $rc
