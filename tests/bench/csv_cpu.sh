#!/usr/bin/env bash
# csv_cpu.sh - the CSV adapter's instructions per row, counted by callgrind
# over the inputs of the bench row "CSV rows normalized, 1 core": the
# screenings sample grown to 600 copies (as run.sh grows it) and the
# SHIN-NY sets of tests/data/csv. Not part of `make bench`; see
# tests/bench/README.md.
#
#   tests/bench/csv_cpu.sh
#
# parse_bench runs each input once (warm-up), then one burst of 256 calls
# of csv_to_events; callgrind counts inside bench_csv only (so not the
# dictionary's loading), and the count is divided by every row run
# (parse_bench's `units`). Prints
#   csv_cpu rows=N instructions=I instructions_per_row=X out=FILE
# FILE is the callgrind dump (callgrind_annotate it).
# shellcheck disable=SC2046,SC2086  # flags are meant to split
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=build/bench/csv_cpu
mkdir -p "$out"
CC=${CC:-cc}
CFLAGS="-O2 -g -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
-Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2 -pthread -Iadapters -Ihub"
command -v valgrind >/dev/null || { echo "csv_cpu: no valgrind" >&2; exit 1; }

make -s build
$CC $CFLAGS -DBENCH_CSV tests/bench/parse_bench.c build/libhub.a \
    build/libadapters.a $(pkg-config --libs libcjson libxml-2.0) -lm \
    -o $out/parse_bench

# the bench input, as run.sh makes it
tests/bench/csv_grow.sh tests/data/csv/screenings-simple.csv 600 \
    >$out/screenings-big.csv
args=("screenings=$out/screenings-big.csv")
for d in tests/data/csv/shinny-*/; do
    [ -d "$d" ] && args+=("shinny=${d%/}")
done

valgrind --tool=callgrind --callgrind-out-file=$out/cg.out \
    --toggle-collect='bench_csv*' $out/parse_bench -d 0.000001 csv \
    "${args[@]}" >$out/parse.txt 2>$out/valgrind.txt
rows=$(tr ' ' '\n' <$out/parse.txt | sed -n 's/^units=//p')
instr=$(callgrind_annotate $out/cg.out 2>/dev/null |
    awk '/PROGRAM TOTALS/ && !seen { gsub(",", "", $1); print $1; seen = 1 }')
if [ -z "$rows" ] || [ "$rows" -eq 0 ] || [ -z "$instr" ]; then
    echo "csv_cpu: no count (see $out/valgrind.txt)" >&2
    exit 1
fi
echo "csv_cpu rows=$rows instructions=$instr" \
    "instructions_per_row=$(awk "BEGIN { printf \"%.0f\", $instr / $rows }")" \
    "out=$out/cg.out"
