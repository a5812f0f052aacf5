#!/usr/bin/env bash
# pglog-canary.sh [FROM_LINE] - fail when the dev PostgreSQL's server log
# (var/pg/server.log), from line FROM_LINE on (default 1), holds a personal
# value of the tests' fixtures (the canary values of tests/lib/canary.h and
# canary.c): what the hub's SQL makes PostgreSQL log (a constraint's DETAIL,
# a failed statement's parameters, a cast's CONTEXT) must carry none.
# run-all.sh calls it after the suites. Prints the lines that hold one.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
log=${HUB_PG_LOG:-$root/var/pg/server.log}
from=${1:-1}
[ -r "$log" ] || { echo "pglog-canary: no $log"; exit 2; }
pats=$(mktemp)
trap 'rm -f "$pats"' EXIT
# the #define CANARY_* values, then the quoted strings of canary_values[]
sed -n 's/^#define CANARY_[A-Z_]* *"\([^"]*\)".*/\1/p' \
    "$root/tests/lib/canary.h" >"$pats"
sed -n '/canary_values\[\] = {/,/NULL,/p' "$root/tests/lib/canary.c" |
    grep -o '"[^"]*"' | tr -d '"' >>"$pats"
[ "$(wc -l <"$pats")" -gt 10 ] || { echo "pglog-canary: no canary values"; exit 2; }
if tail -n +"$from" "$log" | grep -a -n -F -f "$pats"; then
    echo "pglog-canary: personal data in $log (lines above, counted from $from)"
    exit 1
fi
echo "pglog-canary: ok ($(($(wc -l <"$log") - from + 1)) lines)"
