#!/usr/bin/env bash
# idle_rss.sh - the bench's memory row alone, with what it is made of:
# a private hubd configured as tests/bench/hubd.sh configures it, an
# optional bounded load first (as the bench runs its MLLP and HTTPS steps
# before the idle one), then IDLE connections that each send one message
# and sit idle. Prints, at each stage, hubd's VmRSS, the figures of
# /proc/PID/smaps_rollup (anonymous, private dirty), the resident size of
# its [heap] and of its other anonymous mappings (threads' malloc arenas
# and stacks), the thread count and the malloc arenas (gdb: malloc_stats;
# GDB=0 leaves them out).
#
#   HUB_PG_PORT=54424 tests/bench/idle_rss.sh
#   LOAD_SECS=10 LOAD_HTTPS=1 tests/bench/idle_rss.sh   # as the bench does
#   HUB_TREE=/work/wt/old tests/bench/idle_rss.sh       # another tree's
#                                       # build/hubd and hubctl (bisecting)
#
# Knobs: IDLE (1000), LOAD_SECS (0: no load; else seconds per step),
# LOAD_CONNS ("1 8 32"), LOAD_HTTPS (0; 1: also the bench's four HTTPS
# steps at 8 connections; or some of them: "hl7v2 fhir ccda csv"), TRIM (1: after the last stage, malloc_trim(0)
# in hubd through gdb and the figures again: what the allocator kept but
# did not need), HUB_TREE, LOG_LEVEL (warn; debug: hubd's heap.trimmed lines,
# each trim's microseconds, in build/bench/idle/hubd.txt), HUB_PG_PORT,
# MALLOC_ARENA_MAX and other glibc variables pass through to hubd.
#
# Stages: "start" (ready, nothing sent), "load" (after the load; absent
# when LOAD_SECS=0), "idle" (IDLE connections open), "trimmed" (still
# open, after malloc_trim), "closed" (after they left). per_conn_kb = (idle - the stage before) / open.
# The private PostgreSQL is started if it is not running (and then stopped).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
tree=${HUB_TREE:-$root}
IDLE=${IDLE:-1000}
LOAD_SECS=${LOAD_SECS:-0}
LOAD_CONNS=${LOAD_CONNS:-"1 8 32"}
LOAD_HTTPS=${LOAD_HTTPS:-0}
[ "$LOAD_HTTPS" = 1 ] && LOAD_HTTPS="hl7v2 fhir ccda csv"
[ "$LOAD_HTTPS" = 0 ] && LOAD_HTTPS=""
https_step() { [[ " $LOAD_HTTPS " == *" $1 "* ]]; }
TRIM=${TRIM:-1}
GDB=${GDB:-1}
export HUB_PG_PORT=${HUB_PG_PORT:-54329}
command -v gdb >/dev/null || { GDB=0; TRIM=0; }

out=$root/build/bench/idle
mkdir -p "$out"
ulimit -n $(( IDLE * 2 + 1024 )) 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

CFLAGS="-O2 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -pthread"
cc $CFLAGS tests/bench/gen_adt.c -o "$out/gen_adt"
cc $CFLAGS tests/bench/mllp_load.c -o "$out/mllp_load"
[ -n "$LOAD_HTTPS" ] && cc $CFLAGS tests/bench/https_load.c \
    $(pkg-config --cflags --libs libcurl) -o "$out/https_load"
corpus=$out/adt.hl7
[ -s "$corpus" ] || "$out/gen_adt" -n 20000 -s 42 -o "$corpus" 2>/dev/null

hubd_pid="" db_started=0
cleanup() {
    if [ -n "$hubd_pid" ]; then
        kill "$hubd_pid" 2>/dev/null || true
        for _ in $(seq 300); do   # its shutdown, bounded
            kill -0 "$hubd_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$hubd_pid" 2>/dev/null || true
        wait "$hubd_pid" 2>/dev/null || true
    fi
    if [ "$db_started" = 1 ]; then deploy/devdb.sh stop >/dev/null || true; fi
}
trap cleanup EXIT
if ! pg_isready -q -h "${HUB_VAR:-$root/var}/pg/run" -p "$HUB_PG_PORT" 2>/dev/null; then
    db_started=1
fi
deploy/devdb.sh start >/dev/null
deploy/devdb.sh dropdb hub_idle >/dev/null 2>&1 || true
url=$(deploy/devdb.sh createdb hub_idle 2>/dev/null | tail -1)
# from its own tree: hubctl migrate reads schemas/migrations there
(cd "$tree" && DATABASE_URL=$url build/hubctl migrate) >"$out/hubctl.txt" 2>&1
(cd "$tree" && DATABASE_URL=$url build/hubctl org add bench-hosp \
    --name "Bench Hospital" --kind hospital --scopes ingest,subscribe) \
    >>"$out/hubctl.txt" 2>&1

https_conf="https_port = -1"
if [ -n "$LOAD_HTTPS" ]; then
    certs/mkcerts.sh "$out/certs" bench-hosp >/dev/null 2>&1
    (umask 077; cd "$tree" && DATABASE_URL=$url build/hubctl token create \
        bench-hosp --scopes ingest >"$out/token" 2>>"$out/hubctl.txt")
    https_conf="https_bind = 127.0.0.1
https_port = 0
tls_cert = $out/certs/server.crt
tls_key = $out/certs/server.key
tls_ca = $out/certs/ca.crt"
fi
cat >"$out/hubd.conf" <<CONF
profile = dev
database_url = $url
mllp_bind = 127.0.0.1
mllp_port = 0
mllp_org = bench-hosp
mllps_port = -1
$https_conf
http_port = 0
rate_limit = 0
ports_file = $out/ports
max_connections = $(( IDLE + 1024 ))
idle_timeout = 3600
log_level = ${LOG_LEVEL:-warn}
CONF
rm -f "$out/ports" "$out/load.txt"
# the bench's first phase: its own dispatcher off (hubd.sh)
# from its own tree: hubd reads schemas/dict there
(cd "$tree" && HUB_DISPATCH=0 exec build/hubd -c "$out/hubd.conf") >"$out/hubd.txt" 2>&1 &
hubd_pid=$!
mllp="" https=""
for _ in $(seq 300); do
    if [ -s "$out/ports" ]; then
        mllp=$(sed -n 's/^mllp=//p' "$out/ports" | head -1)
        https=$(sed -n 's/^https=//p' "$out/ports" | head -1)
        http=$(sed -n 's/^http=//p' "$out/ports" | head -1)
        break
    fi
    sleep 0.1
done
[ -n "$mllp" ] || { echo "idle_rss: hubd did not start (see $out/hubd.txt)" >&2; exit 1; }
for _ in $(seq 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$http/readyz" && break
    sleep 0.1
done

# arenas: "N in_use_kb system_kb" of glibc's arenas, from malloc_stats
# (written to hubd's stderr, its log) called through gdb
arenas() {
    [ "$GDB" = 1 ] || { echo "- - -"; return 0; }
    local n0
    n0=$(wc -l <"$out/hubd.txt")
    gdb -p "$hubd_pid" -batch -ex 'call (void) malloc_stats()' >/dev/null 2>&1 || true
    tail -n +"$((n0 + 1))" "$out/hubd.txt" | awk '
        /^Arena [0-9]+:/ { n++ }
        /^Total \(incl. mmap\):/ { t = 1 }
        t && /^system bytes/ { s = $4 } t && /^in use bytes/ { u = $5 }
        END { printf "%d %d %d\n", n, u / 1024, s / 1024 }'
}

last_rss=0
# stage NAME [OPEN]: one line of figures
stage() {
    local name=$1 open=${2:-0} rss anon dirty heap other th a per=""
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$hubd_pid/status")
    th=$(awk '/^Threads:/ { print $2 }' "/proc/$hubd_pid/status")
    anon=$(awk '/^Anonymous:/ { print $2 }' "/proc/$hubd_pid/smaps_rollup")
    dirty=$(awk '/^Private_Dirty:/ { print $2 }' "/proc/$hubd_pid/smaps_rollup")
    # [heap]: the main arena; other anonymous mappings: thread arenas,
    # thread stacks, mmapped blocks
    read -r heap other < <(awk '
        /^[0-9a-f]+-[0-9a-f]+ / { kind = ($6 == "[heap]") ? "h" : \
            (NF == 5 ? "o" : "-") }
        /^Rss:/ { if (kind == "h") h += $2; else if (kind == "o") o += $2 }
        END { print h + 0, o + 0 }' "/proc/$hubd_pid/smaps")
    a=$(arenas)
    if [ "$open" -gt 0 ]; then
        per=" per_conn_kb=$(awk -v a="$rss" -v b="$last_rss" -v n="$open" \
            'BEGIN { printf "%.1f", (a - b) / n }')"
    fi
    printf 'stage=%s rss_kb=%s anon_kb=%s private_dirty_kb=%s heap_kb=%s other_anon_kb=%s threads=%s arenas=%s arena_in_use_kb=%s arena_system_kb=%s open=%s%s\n' \
        "$name" "$rss" "$anon" "$dirty" "$heap" "$other" "$th" \
        $a "$open" "$per"
    last_rss=$rss
}

stage start
if [ "$LOAD_SECS" -gt 0 ]; then
    for c in $LOAD_CONNS; do
        "$out/mllp_load" -p "$mllp" -f "$corpus" -c "$c" -d "$LOAD_SECS" -w 1 \
            >>"$out/load.txt" 2>&1 || true
    done
    if [ -n "$LOAD_HTTPS" ] && [ -n "$https" ]; then
        hl=("$out/https_load" -t "$out/token" -k "$out/certs/ca.crt" -c 8
            -d "$LOAD_SECS" -w 1)
        https_step hl7v2 && { "${hl[@]}" -u "https://127.0.0.1:$https/v1/hl7v2" \
            -f "$corpus" >>"$out/load.txt" 2>&1 || true; }
        f=tests/data/fhir/bundle-ahc-panel-transaction.json
        m=$(sed -n 's/.*"value": *"urn:uuid:[0-9a-f-]*-\([0-9a-f]\{12\}\)".*/\1/p' "$f" | head -1)
        https_step fhir && { "${hl[@]}" -u "https://127.0.0.1:$https/v1/fhir" \
            -b "$f" -m "$m" -T application/fhir+json >>"$out/load.txt" 2>&1 || true; }
        args=() k=0
        for f in tests/data/ccda/*.xml tests/data/ccda/*.ccda; do
            [ -e "${f%.*}.events.json" ] || continue
            k=$((k + 1))
            sed '0,/<id [^>]*\/>/s//<id root="2.16.840.1.113883.19.5.99999.1" extension="bench-BENCHDOCMARK00"\/>/' \
                "$f" >"$out/doc$k.xml"
            grep -q BENCHDOCMARK00 "$out/doc$k.xml" &&
                args+=(-b "$out/doc$k.xml" -m BENCHDOCMARK00)
            [ "$k" -lt 16 ] || break
        done
        https_step ccda && [ ${#args[@]} -gt 0 ] && "${hl[@]}" -u "https://127.0.0.1:$https/v1/ccda" \
            "${args[@]}" -T application/xml >>"$out/load.txt" 2>&1 || true
        tests/bench/csv_grow.sh tests/data/csv/screenings-simple.csv 30 >"$out/upload.csv"
        https_step csv && { "${hl[@]}" -u "https://127.0.0.1:$https/v1/csv/screenings" \
            -b "$out/upload.csv" -m - -F bench-screenings -U used -T text/csv \
            >>"$out/load.txt" 2>&1 || true; }
    fi
    sleep 1
    stage load
fi

# IDLE connections, held while the figures are read (mllp_load gives up
# setting them up after 120 s)
"$out/mllp_load" -p "$mllp" -f "$corpus" -c "$IDLE" -d 20 -i >"$out/idle.txt" 2>&1 &
lp=$!
for _ in $(seq 1300); do
    grep -q '^ready' "$out/idle.txt" && break
    kill -0 "$lp" 2>/dev/null || break
    sleep 0.1
done
sleep 1
open=$(sed -n 's/^ready open=\([0-9]*\).*/\1/p' "$out/idle.txt")
stage idle "${open:-0}"
if [ "$TRIM" = 1 ]; then
    gdb -p "$hubd_pid" -batch -ex 'call (int) malloc_trim(0)' >/dev/null 2>&1 || true
    stage trimmed
fi
wait "$lp" || true
sleep 1
stage closed
