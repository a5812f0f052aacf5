#!/usr/bin/env bash
# fuzz.sh SECONDS HARNESS... - run each libFuzzer harness for a bounded time
# from its seed corpus (tests/fuzz/corpus/<name>, never written to) with its
# dictionary, if any. A crash fails the run and leaves crash-* in build/fuzz.
set -euo pipefail
secs=$1; shift
for h in "$@"; do
    name=$(basename "$h")
    seeds=tests/fuzz/corpus/${name%_fuzz}
    work=build/fuzz/work/$name
    mkdir -p "$work"
    args=(-max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048
          -artifact_prefix=build/fuzz/ -print_final_stats=0)
    dict=tests/fuzz/${name%_fuzz}.dict
    [ -f "$dict" ] && args+=(-dict="$dict")
    echo "fuzz: $name for ${secs}s"
    dirs=("$work"); [ -d "$seeds" ] && dirs+=("$seeds")
    "$h" "${args[@]}" "${dirs[@]}" >build/fuzz/$name.log 2>&1 ||
        { tail -40 build/fuzz/$name.log; echo "fuzz: $name FAILED"; exit 1; }
    grep -E '^(Done|#[0-9]+ +DONE)' build/fuzz/$name.log | tail -1 || true
done
