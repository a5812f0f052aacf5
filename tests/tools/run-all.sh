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
failures=()     # each failed test's name and assertion, for CI's short log
failed=0

# e2e tests mostly wait (on hubd, PostgreSQL, timers: about 60 CPU-seconds
# in 200 s at 2 jobs), so they run 6 at once; unit tests are CPU-bound and
# integration tests wait on one PostgreSQL, where more jobs measured slower
e2e_jobs=${HUB_E2E_JOBS:-6}

# suite_run DIR LABEL SUITE OUT [tee]: runs a suite, its output in OUT (and
# on the terminal with tee), its exit status and seconds in OUT.rc, OUT.s
suite_run() {
    local dir=$1 s=$3 out=$4 jobs=2 t0=$SECONDS rc
    [ "$s" = e2e ] && jobs=$e2e_jobs
    if [ "${5:-}" = tee ]; then
        HUB_BUILD=$dir "$dir/bin/test-$s" --jobs "$jobs" 2>&1 | tee "$out"
        rc=${PIPESTATUS[0]}
    else
        HUB_BUILD=$dir "$dir/bin/test-$s" --jobs "$jobs" >"$out" 2>&1
        rc=$?
    fi
    echo "$rc" >"$out.rc"; echo $((SECONDS - t0)) >"$out.s"
}

# suite_report LABEL SUITE OUT: its summary line and failed tests
suite_report() {
    local label=$1 s=$2 out=$3 rc line leaks fails
    rc=$(cat "$out.rc" 2>/dev/null || echo 1)
    line=$(grep -a 'Synthesis:' "$out" | tail -1)
    # hub_cleanup aborts in .fini when hubd.log holds personal data:
    # Criterion exits non-zero but counts no failure, so count it here
    leaks=$(grep -ac '^hubproc: personal data' "$out")
    [ "$leaks" = 0 ] || line="$line | Failing by personal data in hubd.log: $leaks"
    # a suite whose tests all passed can still exit non-zero: a sanitizer
    # report at a test process's exit (a leak), a crash in a fixture's
    # teardown; say so on its line, not only in the exit status
    [ -n "$line" ] && [ "$rc" != 0 ] &&
        line="$line | but exited $rc: see the sanitizer or crash report above"
    summary+=("$label $s ($(cat "$out.s" 2>/dev/null) s): ${line:-no summary (exit $rc)}")
    # the runner's own lines for a failed test: its assertion, its name
    fails=$(grep -a -B6 '^\[FAIL\]' "$out" | grep -a -E '^\[(----|FAIL)\]' |
            head -40)
    [ -z "$fails" ] || failures+=("-- $label $s:" "$fails")
    [ "$rc" = 0 ] || failed=$((failed + 1))
    rm -f "$out" "$out.rc" "$out.s"
}

run_suite() {    # $1 = build dir, $2 = label, $3 = suite: in the foreground
    local out
    [ -x "$1/bin/test-$3" ] || return 0
    out=$(mktemp)
    echo "== $2 $3"
    suite_run "$1" "$2" "$3" "$out" tee
    suite_report "$2" "$3" "$out"
}

# builds use every core
jobs=$(nproc 2>/dev/null || echo 1)
make -s -j"$jobs" build tests || { echo "test: build failed"; exit 1; }
run_suite build plain unit

# the sanitized and fuzz builds (minutes of CPU) run niced beside the plain
# integration and e2e suites, which mostly wait
want_san=; [ -z "${HUB_TEST_SKIP_SAN:-}" ] && want_san=1
want_fuzz=
[ -z "${HUB_TEST_SKIP_FUZZ:-}" ] && ls tests/fuzz/*_fuzz.c >/dev/null 2>&1 &&
    want_fuzz=1
bg_log=build/background-build.log
bg_pid=
bg_unit=build/.bg-san-unit
rm -f build/.bg-san-rc build/.bg-fuzz-rc "$bg_unit" "$bg_unit".*
if [ -n "$want_san$want_fuzz" ]; then
    # its own session, so that a stop of make test (Ctrl-C, a CI timeout's
    # TERM) stops its compilers too; each build's status apart, so that a
    # failed fuzz build does not cost the sanitized suites. The script's
    # death, even by SIGKILL (when no EXIT trap runs), sends it a TERM
    # (pdeathsig), on which it stops its session: no build outlives us.
    # Once built, the sanitized unit suite (CPU alone, no database) runs
    # here too, niced, in the CPU that the suites of the foreground leave
    # while they wait: run after them it was a minute and more of the
    # critical path. Its output is shown with the others' at the end.
    setsid setpriv --pdeathsig TERM bash -c '
        trap "trap - TERM; kill -- -\$\$ 2>/dev/null; exit 143" TERM
        if [ -n "$1" ]; then
            nice -n 10 make -s -j"$3" SANITIZE=address,undefined build \
                tests &
            wait $!; rc=$?; echo $rc >build/.bg-san-rc
            if [ "$rc" = 0 ]; then
                t0=$SECONDS
                ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                HUB_BUILD=build/san nice -n 10 build/san/bin/test-unit \
                    --jobs 2 >"$4" 2>&1 &
                wait $!; echo $? >"$4.rc"; echo $((SECONDS - t0)) >"$4.s"
            fi
        fi
        if [ -n "$2" ]; then
            nice -n 10 make -s -j"$3" fuzz-build &
            wait $!; echo $? >build/.bg-fuzz-rc
        fi' bg "$want_san" "$want_fuzz" "$jobs" "$bg_unit" >"$bg_log" 2>&1 &
    bg_pid=$!
fi
trap '[ -n "$bg_pid" ] && kill -- -"$bg_pid" 2>/dev/null; deploy/devdb.sh stop' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

run_suite build plain integration
run_suite build plain e2e

# the build's status of b (san, fuzz): its line in the summary when it
# failed; waits (bounded only by the build) for the status to be written
bg_check() {
    local b=$1 want=want_$1
    [ -n "${!want}" ] || return 0
    while [ ! -e "build/.bg-$b-rc" ] && kill -0 "$bg_pid" 2>/dev/null; do
        sleep 1
    done
    [ "$(cat "build/.bg-$b-rc" 2>/dev/null)" = 0 ] && return 0
    [ -n "$bg_shown" ] || cat "$bg_log"; bg_shown=1
    summary+=("$b build: FAILED (above, and $bg_log)")
    failed=$((failed + 1)); printf -v "$want" ''
}
bg_shown=

# the sanitized integration and e2e suites as soon as their build is
# done, while the background runs the unit suite and the fuzz build
if [ -n "$bg_pid" ]; then
    bg_check san
    if [ -n "$want_san" ]; then
        for s in integration e2e; do
            ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                run_suite build/san sanitized "$s"
        done
    fi
    wait "$bg_pid"; bg_pid=
    bg_check fuzz
    if [ -n "$want_san" ]; then
        echo "== sanitized unit (run in the background)"
        cat "$bg_unit"
        suite_report sanitized unit "$bg_unit"
    fi
fi

if [ -n "$want_fuzz" ]; then
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
if [ "${#failures[@]}" != 0 ]; then
    echo "failed tests:"; for l in "${failures[@]}"; do echo "$l"; done
fi
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
[ "$failed" = 0 ] || echo "$failed step(s) failed: the summary above says which"
echo "$total_pass passed, $total_fail failed ($SECONDS s in all)"
[ "$failed" = 0 ] && [ "$total_fail" = 0 ]
