#!/usr/bin/env bash
# ingest_cpu.sh - PostgreSQL's cost of the ingest transaction per message, by
# batch size (tests/bench/ingest_cpu.c), without hubd, the network or the
# load generator: the CPU time of the server backend, or with VALGRIND=1 its
# instruction count under callgrind, which other work on a shared machine
# does not move (CPU time does, by 10-20% here). Not part of `make bench`.
#
#   tests/bench/ingest_cpu.sh [BATCH...]          (default: 1 16 32)
#
# A batch of 1 is about the fixed cost of a batch, a large one the cost of a
# message. Knobs: HUB_PG_PORT (the private PostgreSQL, deploy/devdb.sh),
# MSGS (measured messages per batch size, CPU mode: 8000), WARM (messages
# ingested first; the default 20000 is one pass over the corpus, so that
# every identifier is known, the steady state of a feed; 2000 under
# valgrind), VALGRIND=1, SUBS (webhook subscriptions to topic adt.* made
# before the run, default 0: with them each message is routed, its
# deliveries written; nothing is sent, no dispatcher runs).
# VALGRIND=1: a scratch cluster (initdb in build/bench/ingest_cpu/pg, unix
# socket only, autovacuum off) whose postmaster runs under callgrind, so
# that every backend it forks is counted; per message = (instructions of a
# run of N2 messages - of a run of N1) / (N2 - N1), so start-up, warm-up and
# the connection cancel out. Needs valgrind; about a minute per batch size.
# PROF=N (with VALGRIND=1): also the N functions of the backend that cost
# most per batch, inclusive (callgrind_annotate --inclusive=yes), the same
# difference of the two runs; plpgsql.so has no symbols (its addresses).
# SQL=FILE: run FILE (psql) on the migrated database before the warm pass,
# to measure a change of the schema (an index dropped, a storage setting)
# without a migration. OUT=DIR: the working directory (default
# build/bench/ingest_cpu), so that two runs of one tree do not share a
# scratch cluster.
# shellcheck disable=SC2046,SC2086  # CFLAGS and pkg-config output split into flags
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export HUB_PG_PORT=${HUB_PG_PORT:-54329}
out=${OUT:-build/bench/ingest_cpu}
mkdir -p "$out"
batches=${*:-1 16 32}
CC=${CC:-cc}
CFLAGS="-O2 -g -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
-Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2 -pthread -Iadapters -Ihub"
LIBS=$(pkg-config --libs libevent libevent_openssl libevent_pthreads \
    libcjson libcurl libxml-2.0 libpq openssl)

make -s build
$CC $CFLAGS tests/bench/gen_adt.c -o $out/gen_adt
$CC $CFLAGS tests/bench/ingest_cpu.c build/libhub.a build/libadapters.a \
    $LIBS -lm -o $out/ingest_cpu
corpus=$out/adt.hl7
[ -s "$corpus" ] || $out/gen_adt -n 20000 -s 42 -o "$corpus" 2>/dev/null

# setup URL: a fresh migrated database with the bench organization
setup() {
    DATABASE_URL=$1 build/hubctl migrate >"$out/hubctl.txt" 2>&1
    DATABASE_URL=$1 build/hubctl org add bench-hosp --name "Bench Hospital" \
        --kind hospital --scopes ingest >>"$out/hubctl.txt" 2>&1
    [ "${SUBS:-0}" -gt 0 ] || return 0
    DATABASE_URL=$1 build/hubctl org add bench-cbo --name "Bench CBO" \
        --kind cbo --scopes subscribe >>"$out/hubctl.txt" 2>&1
    for _ in $(seq "$SUBS"); do
        DATABASE_URL=$1 build/hubctl sub add --org bench-cbo \
            --url http://127.0.0.1:9/hook --topics 'adt.*' \
            >>"$out/hubctl.txt" 2>&1
    done
}
# the SQL= file, after setup (a subscription it reads exists by then)
extra() {
    [ -n "${SQL:-}" ] || return 0
    psql -qX -v ON_ERROR_STOP=1 "$1" -f "$SQL" >>"$out/hubctl.txt"
}

if [ "${VALGRIND:-0}" != 1 ]; then
    deploy/devdb.sh start
    url=$(deploy/devdb.sh createdb hub_ingest_cpu 2>/dev/null | tail -1)
    setup "$url"
    extra "$url"
    $out/ingest_cpu -u "$url" -f "$corpus" -b 64 -n 64 -w "${WARM:-20000}" \
        >/dev/null
    for b in $batches; do
        $out/ingest_cpu -u "$url" -f "$corpus" -b "$b" -n "${MSGS:-8000}" \
            -w 500
    done
    deploy/devdb.sh dropdb hub_ingest_cpu >/dev/null 2>&1 || true
    exit 0
fi

# --- instruction counts: a scratch cluster under callgrind ------------------
command -v valgrind >/dev/null || { echo "ingest_cpu: no valgrind" >&2; exit 1; }
bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
# an OUT= given absolute is not under the tree
case $out in /*) vg=$out/pg ;; *) vg=$root/$out/pg ;; esac
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
rm -rf "$vg"
mkdir -p "$vg/run" "$vg/cg"
[ "$(id -u)" = 0 ] && chown -R postgres "$vg"
as_pg "$bin/initdb" -D "$vg/data" -U postgres -A trust -E UTF8 \
    --locale=C.UTF-8 >"$out/initdb.txt" 2>&1
cat >>"$vg/data/postgresql.conf" <<CONF
listen_addresses = ''
max_connections = 20
shared_buffers = 128MB
autovacuum = off
CONF
port=$HUB_PG_PORT
as_pg valgrind --tool=callgrind --callgrind-out-file="$vg/cg/cg.%p" \
    "$bin/postgres" -D "$vg/data" -p "$port" -k "$vg/run" \
    >"$out/postmaster.txt" 2>&1 &
pm=$!
trap 'as_pg "$bin/pg_ctl" -D "$vg/data" -m fast -w stop >/dev/null 2>&1 || kill $pm 2>/dev/null || true' EXIT
admin="postgresql://postgres@/postgres?host=$vg/run&port=$port"
for _ in $(seq 120); do
    psql -qAt "$admin" -c 'select 1' >/dev/null 2>&1 && break
    sleep 1
done
psql -q "$admin" -c "create database hub_ingest_cpu"
# (a backend forked under callgrind on a loaded machine can take longer
# than the 5 s hubctl and the bench wait for a connection by default)
url="postgresql://postgres@/hub_ingest_cpu?host=$vg/run&port=$port&connect_timeout=600"
setup "$url"
extra "$url"
$out/ingest_cpu -u "$url" -f "$corpus" -b 16 -n 16 -w "${WARM:-2000}" >/dev/null

# instructions of one run of N messages in batches of B (its backend's
# file, also left in $cgf)
cgf=
instr() {
    local pid f
    pid=$($out/ingest_cpu -u "$url" -f "$corpus" -b "$1" -n "$2" -w $(( $1 * 4 )) |
        sed -n 's/.*backend_pid=\([0-9]*\).*/\1/p')
    f=$vg/cg/cg.$pid
    for _ in $(seq 100); do
        [ -s "$f" ] && grep -q '^totals:' "$f" && break
        sleep 0.2
    done
    cgf=$f
    sed -n 's/^totals: *//p' "$f"
}
# the top PROF functions per batch: (inclusive of run 2 - of run 1) * B / dN
prof() {
    local b=$1 dn=$2 f1=$3 f2=$4
    LC_ALL=C join -t $'\t' -j 1 -a 2 -e 0 -o 0,1.2,2.2 \
        <(incl "$f1") <(incl "$f2") |
        awk -F '\t' -v b="$b" -v dn="$dn" \
            '{ d = ($3 - $2) * b / dn; if (d >= 1000) printf "%12d  %s\n", d, $1 }' |
        sort -rn | head -n "$PROF"
}
incl() {
    callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
        sed -n 's/^ *\([0-9,][0-9,]*\) ([^)]*)  \(.*\)$/\2\t\1/p' |
        tr -d , | LC_ALL=C sort -t $'\t' -k1,1
}
for b in $batches; do
    n1=$(( b * 20 > 100 ? b * 20 : 100 ))
    n2=$(( n1 * 3 ))
    instr "$b" "$n1" >"$out/instr.txt"; a=$(cat "$out/instr.txt"); f1=$cgf
    instr "$b" "$n2" >"$out/instr.txt"; z=$(cat "$out/instr.txt"); f2=$cgf
    echo "ingest_cpu batch=$b instructions_per_msg=$(( (z - a) / (n2 - n1) )) instructions_per_batch=$(( (z - a) * b / (n2 - n1) ))"
    if [ "${PROF:-0}" -gt 0 ]; then prof "$b" $(( n2 - n1 )) "$f1" "$f2"; fi
done
