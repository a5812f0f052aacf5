#!/usr/bin/env bash
# run.sh - `make bench`: the hub beside its peers and the machine's ceilings,
# in one bounded run (about 5 minutes at the default 10 s per load step),
# ending in one table (also written to build/bench/results.md).
#
# Every row measures something that exists on this tree; a row whose
# component is not built yet prints "n/a (not built)", never a number.
#
# Knobs (environment):
#   BENCH_SECONDS   seconds per load step (default 10; use 2 to try it out)
#   BENCH_CONNS     connection counts (default "1 8 32"); the HTTPS rows
#                   run at 8 whatever it says, and their pgbench ceiling
#                   is there only when 8 is among them
#   BENCH_MESSAGES  corpus size (default 20000), BENCH_SEED (default 42)
#   BENCH_IDLE      idle MLLP connections for the memory row (default 1000)
#   BENCH_PARSE_TURNS turns of the HL7 parse row, hub then npm peers, the
#                   best of each kept (default 3)
#   BENCH_CSV_COPIES copies of the CSV screenings sample per durable upload
#                   (default 30: 510 rows)
#   HUB_PG_PORT     port of the private PostgreSQL (see deploy/devdb.sh)
#   BENCH_PROFILE=1 also time hubd's SQL functions (track_functions) and
#                   write the top ones to build/bench/log/sql_profile.txt;
#                   this costs a little, so the figures are not for the table
#   BENCH_ONLY      run only these steps, e.g. "hubd" or "parse peers"
#                   (steps: parse peers pgbench curl hubd; "deliver" runs
#                   hubd's delivery rows alone); the others' rows
#                   print "n/a (not run)"
#
# Steps write "key value" lines to build/bench/raw.txt; report.js turns
# them into the table. Processes started here are stopped on exit, and the
# private PostgreSQL too if this script started it.
# shellcheck disable=SC2046  # pkg-config output is meant to split into flags
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-"1 8 32"}
NMSG=${BENCH_MESSAGES:-20000}
SEED=${BENCH_SEED:-42}
IDLE=${BENCH_IDLE:-1000}
WARM=1
PARSE_SECS=$(( SECS / 2 > 1 ? SECS / 2 : 1 ))
PARSE_TURNS=${BENCH_PARSE_TURNS:-3}
export HUB_PG_PORT=${HUB_PG_PORT:-54329}

out=build/bench
raw=$out/raw.txt
log=$out/log
mkdir -p "$out" "$log"
rm -f "$log"/*
: >"$raw"

CC=${CC:-cc}
CFLAGS="-O2 -g -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
-Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2 -pthread -Iadapters -Ihub"
PKG_LIBS=$(pkg-config --libs libevent libevent_openssl libevent_pthreads \
    libcjson libcurl libxml-2.0 libpq openssl 2>/dev/null || true)

pids=()
db_started=0
cleanup() {
    for p in "${pids[@]:-}"; do
        [ -n "$p" ] && kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]:-}"; do
        [ -n "$p" ] && wait "$p" 2>/dev/null || true
    done
    if [ "$db_started" = 1 ]; then deploy/devdb.sh stop || true; fi
}
trap cleanup EXIT

say() { printf 'bench: %s\n' "$*" >&2; }
want() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }
put() { printf '%s %s\n' "$1" "$2" >>"$raw"; }
# "k=v k=v" -> value of one key
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -1; }

# 1000 idle connections need as many descriptors on both ends.
ulimit -n $(( IDLE * 2 + 1024 )) 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

# --- what is built ----------------------------------------------------------
have_sym() { [ -f build/libadapters.a ] && nm -g --defined-only build/libadapters.a 2>/dev/null | grep -w "$1" >/dev/null; }
hubd_real() { [ -x build/hubd ] && ! grep -q 'not built yet' hub/hubd.c; }
hubctl_real() { [ -x build/hubctl ] && ! grep -q 'not built yet' hub/hubctl.c; }

# built.X 0 makes the table say "n/a (not built)" rather than "failed".
built() { put "built.$1" "$2"; }
defs=""
if have_sym hl7_to_events; then defs="$defs -DBENCH_HL7"; else
    built hl7 0; built hl7parse 0; fi
if have_sym fhir_to_events; then defs="$defs -DBENCH_FHIR"; else built fhir 0; built fhir_care 0; fi
if have_sym ccda_to_events; then defs="$defs -DBENCH_CCDA"; else built ccda 0; fi
if have_sym csv_to_events; then defs="$defs -DBENCH_CSV"; else built csv 0; fi
if hubd_real && hubctl_real; then hubd_ok=1; else hubd_ok=0; built hubd 0; fi
# The dispatcher runs as a node of its own (deliver_bench) on hub/ code.
dispatch_ok=0
if [ "$hubd_ok" = 1 ] && [ -f hub/dispatch.h ] && [ -f hub/subs.h ] &&
   nm -g --defined-only build/libhub.a 2>/dev/null | grep -w dispatch_start >/dev/null; then
    dispatch_ok=1
else
    built dispatch 0
fi
[ "$hubd_ok" = 1 ] || for k in https https_fhir https_ccda https_csv; do
    built $k 0; done

say "compiling bench tools"
$CC $CFLAGS tests/bench/gen_adt.c -o $out/gen_adt
$CC $CFLAGS tests/bench/mllp_load.c -o $out/mllp_load
$CC $CFLAGS tests/bench/webhook_recv.c $(pkg-config --cflags --libs libevent) \
    -o $out/webhook_recv
$CC $CFLAGS tests/bench/curl_ceiling.c $(pkg-config --cflags --libs libcurl) \
    -o $out/curl_ceiling
$CC $CFLAGS tests/bench/https_load.c $(pkg-config --cflags --libs libcurl) \
    -o $out/https_load
if [ "$dispatch_ok" = 1 ]; then
    $CC $CFLAGS $(pkg-config --cflags libpq libcjson 2>/dev/null) \
        tests/bench/deliver_bench.c build/libhub.a build/libadapters.a \
        $PKG_LIBS -lm -o $out/deliver_bench
fi
# libhub.a for hub/dict_files.c: the dictionary the adapters score with
$CC $CFLAGS $defs tests/bench/parse_bench.c build/libhub.a build/libadapters.a \
    $PKG_LIBS -lm -o $out/parse_bench

say "corpus: $NMSG ADT messages, seed $SEED"
corpus=$out/adt.hl7
$out/gen_adt -n "$NMSG" -s "$SEED" -o "$corpus" 2>"$log/gen_adt.txt"
cat "$log/gen_adt.txt" >&2
# the same messages in runs of four for one patient (ingest-to-delivery)
corpus_burst=$out/adt_burst.hl7
$out/gen_adt -n "$NMSG" -s "$SEED" -b 4 -o "$corpus_burst" 2>/dev/null
put corpus.info "$(sed 's/^gen_adt: //' "$log/gen_adt.txt")"
put load.start "$(cut -d' ' -f1 /proc/loadavg)"
put config.seconds "$SECS"
put config.idle "$IDLE"
put config.conns "$CONNS"

# --- npm peers ----------------------------------------------------------------
npm_ok=0
if command -v node >/dev/null && command -v npm >/dev/null; then
    if [ -d tests/bench/node_modules/simple-hl7 ] &&
       [ -d tests/bench/node_modules/@medplum/hl7 ] &&
       [ -d tests/bench/node_modules/hl7parser ]; then
        npm_ok=1
    else
        say "installing npm peers into tests/bench/node_modules"
        if (cd tests/bench && npm install --no-audit --no-fund --silent) \
            >"$log/npm.txt" 2>&1; then npm_ok=1; else
            say "npm install failed (see $log/npm.txt): peer rows will be n/a"
        fi
    fi
fi
put peers.npm "$npm_ok"

# --- parse + normalize on one core ------------------------------------------
want parse || { for k in hl7 hl7parse fhir fhir_care ccda csv; do put "built.$k" skip; done; }
want parse && say "parse: hub adapters, ${PARSE_SECS}s each"
# the row's normalize runs with the dictionary, as hubd's does (hl7dict:
# the sensitivity labels come from it); parse alone needs none
want parse && {
    line=$($out/parse_bench -d "$PARSE_SECS" hl7parse "$corpus" \
        2>"$log/parse_hl7parse.txt")
    echo "$line" >>"$log/parse_hl7parse.txt"
    put "parse.hub.hl7parse" "$(field "$line" units_per_s)"
    put "parse.hub.hl7parse.mbs" "$(field "$line" mb_per_s)"
    put "parse.hub.hl7parse.errors" "$(field "$line" errors)"
}

# The HL7 row is a ratio to the npm parsers, so the hub and the peers run in
# turns (PARSE_TURNS of them, hub then peers), and each keeps its best turn:
# a burst of other load on a shared machine then lowers a turn, not a side.
# Every turn's line is in the logs (parse_hl7.txt, parse_peers.txt).
want peers || { npm_ok=skip; put peers.npm skip; }
turn_secs=$(( PARSE_SECS * 2 / PARSE_TURNS > 1 ? PARSE_SECS * 2 / PARSE_TURNS : 1 ))
: >"$log/parse_hl7.txt"; : >"$log/parse_peers.txt"
if want parse || [ "$npm_ok" = 1 ]; then
    say "parse: HL7 v2, hub and npm peers in $PARSE_TURNS turns of ${turn_secs}s each"
fi
for ((turn = 1; turn <= PARSE_TURNS; turn++)); do
    if want parse; then
        line=$($out/parse_bench -d "$turn_secs" hl7dict "$corpus" \
            2>>"$log/parse_hl7.txt")
        echo "turn $turn: $line" >>"$log/parse_hl7.txt"
    fi
    if [ "$npm_ok" = 1 ]; then
        echo "turn $turn" >>"$log/parse_peers.txt"
        node tests/bench/peers_parse.js "$corpus" "$turn_secs" \
            >>"$log/parse_peers.txt" 2>&1 || true
    fi
done
if want parse; then     # the best turn's line, whole
    line=$(grep '^turn .*units_per_s=' "$log/parse_hl7.txt" |
        sed 's/^turn [0-9]*: //' | sort -t= -k2 -n -r | head -1)
    put "parse.hub.hl7" "$(field "$line" units_per_s)"
    put "parse.hub.hl7.mbs" "$(field "$line" mb_per_s)"
    put "parse.hub.hl7.errors" "$(field "$line" errors)"
fi
if [ "$npm_ok" = 1 ]; then
    while read -r name; do
        line=$(grep "^parse_peer $name " "$log/parse_peers.txt" |
            awk '{ v = $3; sub(/^msgs_per_s=/, "", v);
                   if (v != "na" && (best == "" || v + 0 > bv)) { best = $0; bv = v + 0 } }
                 END { print best }')
        [ -n "$line" ] || line=$(grep "^parse_peer $name " "$log/parse_peers.txt" | head -1)
        put "parse.peer.$name" "$(field "$line" msgs_per_s)"
        put "parse.peer.$name.errors" "$(field "$line" errors)"
    done < <(grep '^parse_peer ' "$log/parse_peers.txt" | awk '{ print $2 }' | sort -u)
fi

# FHIR: the test bundles that give screening events; the single screening
# resources when there is no such bundle (the row then says so).
fhir_docs=() fhir_bundles=()
for f in tests/data/fhir/*.json; do
    case $f in *.events.json|*.err.json) continue ;; esac
    grep -q '"screening\.' "${f%.json}.events.json" 2>/dev/null || continue
    fhir_docs+=("$f")
    grep -q '"resourceType" *: *"Bundle"' "$f" && fhir_bundles+=("$f")
done
# FHIR care coordination: the test resources that give a referral, care
# plan, condition or goal event and no screening event, so that a change
# to that code shows in the bench (the screening row never runs it, F1661).
fhir_care=()
for f in tests/data/fhir/*.json; do
    case $f in *.events.json|*.err.json) continue ;; esac
    ev=${f%.json}.events.json
    [ -f "$ev" ] || continue
    grep -q '"screening\.' "$ev" && continue
    grep -Eq '"(referral|careplan|condition|goal)\.' "$ev" && fhir_care+=("$f")
done
if [ ${#fhir_bundles[@]} -gt 0 ]; then
    fhir_docs=("${fhir_bundles[@]}")
    put fhir.units bundles
else
    put fhir.units resources
fi
# C-CDA: the test documents that give events (those with a .events.json).
ccda_docs=()
for f in tests/data/ccda/*.xml tests/data/ccda/*.ccda; do
    [ -e "${f%.*}.events.json" ] && ccda_docs+=("$f")
done
# CSV: the hub's screenings layout, its sample grown to about 10,000 rows
# (screening and patient ids made unique per copy), and the SHIN-NY sets.
csv_args=()
# csv_grow FILE COPIES: tests/bench/csv_grow.sh (hubd.sh uses it too)
csv_grow() { tests/bench/csv_grow.sh "$@"; }
if [ -f tests/data/csv/screenings-simple.csv ]; then
    mkdir -p "$out/csv"
    csv_grow tests/data/csv/screenings-simple.csv 600 >"$out/csv/screenings-big.csv"
    csv_args+=("screenings=$out/csv/screenings-big.csv")
fi
for d in tests/data/csv/shinny-*/; do
    [ -d "$d" ] && csv_args+=("shinny=${d%/}")
done
for k in fhir fhir_care ccda csv; do
    want parse || break
    case $k in
    fhir) set -- "${fhir_docs[@]}" ;;
    fhir_care) set -- "${fhir_care[@]}" ;;
    ccda) set -- "${ccda_docs[@]}" ;;
    csv) set -- "${csv_args[@]}" ;;
    esac
    [ $# -gt 0 ] || continue
    line=$($out/parse_bench -d "$PARSE_SECS" "${k%_care}" "$@" \
        2>"$log/parse_$k.txt" || true)
    echo "$line" >>"$log/parse_$k.txt"
    put "parse.hub.$k" "$(field "$line" units_per_s)"
    put "parse.hub.$k.mbs" "$(field "$line" mb_per_s)"
    put "parse.hub.$k.errors" "$(field "$line" errors)"
done
set --


# --- MLLP load and idle memory ------------------------------------------------
# CPU ticks (utime+stime, getconf CLK_TCK a second) of one process, 0 when
# it is gone; of the private PostgreSQL: the postmaster with the children
# it reaped (cutime+cstime) and the live ones, so that a backend that ends
# in between still counts. Wall-clock rates move with whatever else the
# machine runs; CPU per delivery says what a delivery costs.
proc_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
pg_ticks() {
    local pm c
    pm=$(head -1 "${HUB_VAR:-$root/var}/pg/data/postmaster.pid" 2>/dev/null) ||
        { echo 0; return 0; }
    { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat" 2>/dev/null
      for c in $(pgrep -P "$pm" 2>/dev/null); do proc_ticks "$c"; done
    } | awk '{ s += $1 } END { print s + 0 }'
}

# pg_settle DB: wait (at most 5 s) until no backend of DB is left and the
# postmaster has reaped every child (an autovacuum worker is not waited for).
# pgbench's backends end as it exits, and a zombie shows no CPU in its
# /proc/PID/stat until the postmaster reaps it into its cutime: a pg_ticks at
# once could miss a whole run's backends (pgbench rows read 0.3 and 0.4 us
# per transaction).
pg_settle() {
    local pm i
    pm=$(head -1 "${HUB_VAR:-$root/var}/pg/data/postmaster.pid" 2>/dev/null) ||
        return 0
    for i in $(seq 50); do
        pgrep -P "$pm" -f "^postgres: [a-z_]+ $1 " >/dev/null 2>&1 ||
            ps --ppid "$pm" -o stat= 2>/dev/null | grep -q Z || return 0
        sleep 0.1
    done
}

# cpu_per TICKS N: TICKS of CPU per N units, in microseconds.
cpu_per() {
    awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n }'
}

# mllp_rows NAME PORT [SERVER_PID [pg]]: closed-loop load at each connection
# count. With SERVER_PID, the CPU each ACKed message cost the server, the
# load client and (with "pg") the private PostgreSQL, whole run over every
# ACK, warm-up included: where the 2 cores went, beside the rate.
mllp_rows() {
    local name=$1 port=$2 spid=${3:-} with_pg=${4:-} c line s0 p0 s1 p1 n
    for c in $CONNS; do
        say "mllp: $name, $c connection(s), ${SECS}s"
        s0=0; p0=0
        if [ -n "$spid" ]; then s0=$(proc_ticks "$spid"); fi
        if [ -n "$with_pg" ]; then p0=$(pg_ticks); fi
        line=$($out/mllp_load -p "$port" -f "$corpus" -c "$c" -d "$SECS" \
            -w "$WARM" 2>>"$log/mllp_$name.txt" || true)
        if [ -n "$spid" ]; then s1=$(proc_ticks "$spid"); fi
        if [ -n "$with_pg" ]; then p1=$(pg_ticks); fi
        echo "$line" >>"$log/mllp_$name.txt"
        [ -n "$line" ] || continue
        put "mllp.$name.$c.rate" "$(field "$line" msgs_per_s)"
        put "mllp.$name.$c.p50" "$(field "$line" p50_ms)"
        put "mllp.$name.$c.p99" "$(field "$line" p99_ms)"
        put "mllp.$name.$c.nacks" "$(field "$line" nacks)"
        put "mllp.$name.$c.closed" "$(field "$line" closed)"
        put "mllp.$name.$c.cpu_client_us" "$(field "$line" cpu_us_per_ack)"
        n=$(field "$line" acked)
        if [ -n "$spid" ] && [ "${n:-0}" -gt 0 ]; then
            put "mllp.$name.$c.cpu_server_us" "$(cpu_per $((s1 - s0)) "$n")"
            if [ -n "$with_pg" ]; then
                put "mllp.$name.$c.cpu_pg_us" "$(cpu_per $((p1 - p0)) "$n")"
            fi
        fi
    done
}

# idle_rss NAME PORT PID: VmRSS of PID while IDLE connections sit open.
idle_rss() {
    local name=$1 port=$2 pid=$3 rss
    local f=$log/idle_$name.txt
    say "memory: $name with $IDLE idle connections"
    $out/mllp_load -p "$port" -f "$corpus" -c "$IDLE" -d 3 -i >"$f" 2>&1 &
    local lp=$!
    for _ in $(seq 1300); do      # mllp_load gives up after 120 s
        grep -q '^ready' "$f" && break
        kill -0 "$lp" 2>/dev/null || break
        sleep 0.1
    done
    sleep 1
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    wait "$lp" || true
    local open
    open=$(sed -n 's/^idle open=\([0-9]*\).*/\1/p' "$f")
    if [ -n "$rss" ]; then
        put "rss.$name" "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')"
        put "rss.$name.open" "${open:-0}"
    fi
}

# start_peer NAME: an npm MLLP server; sets peer_pid and peer_port.
start_peer() {
    local f=$log/peer_$1.out
    node tests/bench/peer_mllp.js "$1" >"$f" 2>&1 &
    peer_pid=$!
    pids+=("$peer_pid")
    peer_port=""
    for _ in $(seq 100); do
        peer_port=$(sed -n 's/^port=//p' "$f")
        [ -n "$peer_port" ] && break
        sleep 0.1
    done
}

if [ "$npm_ok" = 1 ]; then
    for peer in simple-hl7 medplum; do
        start_peer "$peer"
        if [ -z "$peer_port" ]; then
            say "$peer MLLP server did not start (see $log/peer_$peer.out)"
            continue
        fi
        mllp_rows "$peer" "$peer_port" "$peer_pid"
        idle_rss "$peer" "$peer_port" "$peer_pid"
        kill "$peer_pid" 2>/dev/null || true
        wait "$peer_pid" 2>/dev/null || true
    done
fi

# --- the private PostgreSQL: pgbench ceiling ---------------------------------
say "database: private PostgreSQL on port $HUB_PG_PORT"
if ! pg_isready -q -h "${HUB_VAR:-$root/var}/pg/run" -p "$HUB_PG_PORT" 2>/dev/null; then
    db_started=1
fi
deploy/devdb.sh start
pgurl=$(deploy/devdb.sh createdb hub_bench_pg 2>/dev/null | tail -1)
psql -q "$pgurl" -c "create table bench_row (id bigserial primary key, payload text not null)"
cat >"$out/pgbench.sql" <<'SQL'
\set r random(1, 2000000000)
INSERT INTO bench_row (payload) VALUES (repeat(md5(:r::text), 48));
SQL
want pgbench || put built.pgbench skip
want pgbench && for c in $CONNS; do
    say "pgbench: $c client(s), ${SECS}s, one 1.5 KB row per transaction"
    j=$(( c < 2 ? c : 2 ))
    p0=$(pg_ticks)
    # `times` in the same subshell: its second line is pgbench's CPU
    cl=$( { PGOPTIONS='-c synchronous_commit=on' pgbench -n -M prepared \
        -f "$out/pgbench.sql" -c "$c" -j "$j" -T "$SECS" "$pgurl" \
        >"$log/pgbench_$c.txt" 2>&1 || true; times; } | tail -1 |
        awk '{ for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } }
             END { print t }')
    pg_settle hub_bench_pg
    p1=$(pg_ticks)
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$log/pgbench_$c.txt" | head -1)
    lat=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$log/pgbench_$c.txt")
    [ -n "$tps" ] && put "pgbench.$c.tps" "$tps"
    # CPU per transaction: the private PostgreSQL, pgbench itself
    txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' \
        "$log/pgbench_$c.txt" | head -1)
    if [ "${txns:-0}" -gt 0 ]; then
        put "pgbench.$c.cpu_pg_us" "$(cpu_per $((p1 - p0)) "$txns")"
        put "pgbench.$c.cpu_client_us" \
            "$(awk -v s="$cl" -v n="$txns" 'BEGIN { printf "%.1f", s * 1e6 / n }')"
    fi
    [ -n "$lat" ] && put "pgbench.$c.lat" "$lat"
done
deploy/devdb.sh dropdb hub_bench_pg >/dev/null 2>&1 || true

# --- delivery ceiling: plain libcurl multi to a loopback receiver --------------
# The receiver stays up: hubd's webhook rows deliver to the same one.
$out/webhook_recv >"$log/webhook_recv.out" 2>&1 &
recv_pid=$!
pids+=("$recv_pid")
recv_port=""
for _ in $(seq 50); do
    recv_port=$(sed -n 's/^port=//p' "$log/webhook_recv.out")
    [ -n "$recv_port" ] && break
    sleep 0.1
done
want curl || put built.curl skip
if [ -n "$recv_port" ] && want curl; then
    say "delivery ceiling: plain libcurl multi POSTs, 8 at once, ${SECS}s"
    line=$($out/curl_ceiling -u "http://127.0.0.1:$recv_port/hook" -c 8 \
        -d "$SECS" 2>>"$log/curl_ceiling.txt" || true)
    echo "$line" >>"$log/curl_ceiling.txt"
    put curl.ceiling "$(field "$line" posts_per_s)"
    curl -fsS "http://127.0.0.1:$recv_port/reset" >/dev/null || true
fi

# --- hubd: durable MLLP ingest, full path -------------------------------------
if ! want hubd && ! want deliver; then
    for k in hubd dispatch https https_fhir https_ccda https_csv; do
        put "built.$k" skip
    done
elif [ "$hubd_ok" = 1 ] && [ -f tests/bench/hubd.sh ]; then
    # shellcheck source=/dev/null
    . tests/bench/hubd.sh
else
    say "hubd: not built on this tree, rows n/a"
fi

# --- the table ----------------------------------------------------------------
put load.end "$(cut -d' ' -f1 /proc/loadavg)"
if command -v node >/dev/null; then
    node tests/bench/report.js "$raw" "$out/results.md"
else
    cat "$raw"
fi
