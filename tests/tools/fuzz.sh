#!/usr/bin/env bash
# fuzz.sh SECONDS HARNESS... - run each libFuzzer harness for a bounded time
# from its seed corpus (tests/fuzz/corpus/<name>, never written to) with its
# dictionary, if any, as many at once as there are cores. A crash fails the
# run and leaves crash-* in build/fuzz.
set -euo pipefail
secs=$1; shift
# as many harnesses at once as there are cores: each is one process
jobs=$(nproc 2>/dev/null || echo 1)

# fuzz_one HARNESS: its bounded run; output in build/fuzz/<name>.log
fuzz_one() {
    local h=$1 name seeds work dict
    name=$(basename "$h")
    seeds=tests/fuzz/corpus/${name%_fuzz}
    work=build/fuzz/work/$name
    mkdir -p "$work"
    local args=(-max_total_time="$secs" -max_len=65536 -timeout=10
                -rss_limit_mb=2048 -artifact_prefix=build/fuzz/
                -print_final_stats=0)
    dict=tests/fuzz/${name%_fuzz}.dict
    [ -f "$dict" ] && args+=(-dict="$dict")
    local dirs=("$work"); [ -d "$seeds" ] && dirs+=("$seeds")
    "$h" "${args[@]}" "${dirs[@]}" >"build/fuzz/$name.log" 2>&1
}

pending=("$@")
failed=0
while [ "${#pending[@]}" -gt 0 ]; do
    batch=("${pending[@]:0:$jobs}")
    pending=("${pending[@]:$jobs}")
    pids=()
    for h in "${batch[@]}"; do
        echo "fuzz: $(basename "$h") for ${secs}s"
        fuzz_one "$h" & pids+=($!)
    done
    for i in "${!batch[@]}"; do
        name=$(basename "${batch[$i]}")
        if wait "${pids[$i]}"; then
            grep -E '^(Done|#[0-9]+ +DONE)' "build/fuzz/$name.log" | tail -1 || true
        else
            tail -40 "build/fuzz/$name.log"
            echo "fuzz: $name FAILED"
            failed=1
        fi
    done
done
exit "$failed"
