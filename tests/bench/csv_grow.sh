#!/usr/bin/env bash
# csv_grow.sh FILE COPIES: the header of a simple-layout screenings CSV,
# then COPIES copies of its rows with screening and patient ids made unique
# per copy (suffix -K), on standard output. The bench input of the CSV rows
# (run.sh, hubd.sh, csv_cpu.sh) and of tests/tools/csv-equiv.sh.
set -euo pipefail
head -1 "$1"
for k in $(seq "$2"); do
    awk -v K="$k" 'NR > 1 && NF {
        i = index($0, ","); id = substr($0, 1, i - 1)
        rest = substr($0, i + 1); j = index(rest, ",")
        pid = substr(rest, 1, j - 1); rest = substr(rest, j + 1)
        if (pid != "") pid = pid "-" K
        print id "-" K "," pid "," rest }' "$1"
done
