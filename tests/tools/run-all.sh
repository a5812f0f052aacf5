#!/usr/bin/env bash
# run-all.sh - `make test`: the private PostgreSQL, then every suite as built
# and again under AddressSanitizer + UndefinedBehaviorSanitizer, then a short
# bounded fuzz run. Stops the database on the way out, whatever happens.
# Ends with each runner's own summary and one line of totals.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export HUB_ROOT=$root
export HUB_PG_PORT=${HUB_PG_PORT:-54329}

deploy/devdb.sh start || { echo "test: cannot start PostgreSQL"; exit 1; }
trap 'deploy/devdb.sh stop' EXIT
export HUB_TEST_ADMIN_URL=$(deploy/devdb.sh url postgres)
# the server log's lines from here on are this run's (pglog-canary.sh)
pglog_from=$(( $(wc -l <var/pg/server.log 2>/dev/null || echo 0) + 1 ))

summary=()
failed=0

run_suites() {   # $1 = build dir, $2 = label
    local dir=$1 label=$2 s out rc
    for s in unit integration e2e; do
        [ -x "$dir/bin/test-$s" ] || continue
        out=$(mktemp)
        echo "== $label $s"
        t0=$SECONDS
        HUB_BUILD=$dir "$dir/bin/test-$s" --jobs 2 2>&1 | tee "$out"
        rc=${PIPESTATUS[0]}
        line=$(grep -a 'Synthesis:' "$out" | tail -1)
        # hub_cleanup aborts in .fini when hubd.log holds personal data:
        # Criterion exits non-zero but counts no failure, so count it here
        leaks=$(grep -ac '^hubproc: personal data' "$out")
        [ "$leaks" = 0 ] || line="$line | Failing by personal data in hubd.log: $leaks"
        summary+=("$label $s ($((SECONDS - t0)) s): ${line:-no summary (exit $rc)}")
        [ "$rc" = 0 ] || failed=$((failed + 1))
        rm -f "$out"
    done
}

# builds use every core (the fuzz harnesses each compile every adapter)
jobs=$(nproc 2>/dev/null || echo 1)
make -s -j"$jobs" build tests || { echo "test: build failed"; exit 1; }
run_suites build plain

if [ -z "${HUB_TEST_SKIP_SAN:-}" ]; then
    make -s -j"$jobs" SANITIZE=address,undefined build tests ||
        { echo "test: sanitizer build failed"; exit 1; }
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        run_suites build/san sanitized
fi

if [ -z "${HUB_TEST_SKIP_FUZZ:-}" ] && ls tests/fuzz/*_fuzz.c >/dev/null 2>&1; then
    echo "== fuzz (bounded)"
    t0=$SECONDS
    if make -s -j"$jobs" fuzz FUZZ_SECONDS=${HUB_FUZZ_SECONDS:-6}; then
        summary+=("fuzz ($((SECONDS - t0)) s): ok")
    else
        summary+=("fuzz ($((SECONDS - t0)) s): FAILED"); failed=$((failed + 1))
    fi
fi

echo "== PostgreSQL's log (no personal data)"
if tests/tools/pglog-canary.sh "$pglog_from"; then
    summary+=("postgresql log: no canary value")
else
    summary+=("postgresql log: PERSONAL DATA (see above)"); failed=$((failed + 1))
fi

echo
echo "== summary"
for l in "${summary[@]}"; do echo "$l"; done
total_pass=0; total_fail=0
for l in "${summary[@]}"; do
    p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$l")
    # Criterion counts a crash among the failures too
    f=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$l")
    t=$(sed -n 's/.*personal data in hubd.log: \([0-9]*\).*/\1/p' <<<"$l")
    total_pass=$((total_pass + ${p:-0}))
    total_fail=$((total_fail + ${f:-0} + ${t:-0}))
done
echo "$total_pass passed, $total_fail failed ($SECONDS s in all)"
[ "$failed" = 0 ] && [ "$total_fail" = 0 ]
