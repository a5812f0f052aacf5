#!/usr/bin/env bash
# hubd_cpu.sh - hubd's own instructions per HL7 message on the durable MLLP
# path (listener, parse, normalize, the batch's arrays, libpq, libevent,
# libc), counted by callgrind while mllp_load sends a fixed number of
# messages. Not part of `make bench`; see tests/bench/README.md.
#
#   tests/bench/hubd_cpu.sh
#
# hubd (no dispatcher) runs under callgrind against a fresh database of the
# private PostgreSQL (deploy/devdb.sh), its plain MLLP listener bound to one
# hospital org, as in `make bench`. WARM messages first (plans made, caches
# warm), then the counters are zeroed (callgrind_control -z), MSGS messages
# sent (mllp_load -n, CONNS connections, closed loop), and the counters
# dumped: their total divided by MSGS is printed
#   hubd_cpu conns=C msgs=N instructions_per_msg=X sha256_per_msg=S out=FILE
# S is the part of X in OpenSSL's EVP_Digest (the raw message's SHA-256),
# inflated under valgrind, which hides the CPU's SHA extensions: natively
# it is a few per cent of hubd. FILE is the callgrind dump of the measured
# part (callgrind_annotate it).
# PostgreSQL is not counted; the batch sizes follow from timing (hubd runs
# ~50x slower under callgrind), which moves the per-batch part a little.
# Knobs: HUB_PG_PORT, CONNS (32), MSGS (4000), WARM (2000).
# shellcheck disable=SC2086  # CFLAGS split into flags
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export HUB_PG_PORT=${HUB_PG_PORT:-54329}
out=build/bench/hubd_cpu
mkdir -p "$out"
conns=${CONNS:-32} msgs=${MSGS:-4000} warm=${WARM:-2000}
CC=${CC:-cc}
CFLAGS="-O2 -g -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
-Wall -Wextra -Werror"
command -v valgrind >/dev/null || { echo "hubd_cpu: no valgrind" >&2; exit 1; }

make -s build
$CC $CFLAGS tests/bench/gen_adt.c -o $out/gen_adt
$CC $CFLAGS tests/bench/mllp_load.c -o $out/mllp_load
corpus=$out/adt.hl7
[ -s "$corpus" ] || $out/gen_adt -n 20000 -s 42 -o "$corpus" 2>/dev/null

deploy/devdb.sh start >/dev/null
deploy/devdb.sh dropdb hub_cpu >/dev/null 2>&1 || true
url=$(deploy/devdb.sh createdb hub_cpu 2>/dev/null | tail -1)
DATABASE_URL=$url build/hubctl migrate >"$out/hubctl.txt" 2>&1
DATABASE_URL=$url build/hubctl org add bench-hosp --name "Bench Hospital" \
    --kind hospital --scopes ingest >>"$out/hubctl.txt" 2>&1

ports=$root/$out/hubd.ports
rm -f "$ports" "$out"/cg.*
cat >"$out/hubd.conf" <<CONF
profile = dev
database_url = $url
mllp_bind = 127.0.0.1
mllp_port = 0
mllp_org = bench-hosp
mllps_port = -1
https_port = -1
http_port = 0
rate_limit = 0
ports_file = $ports
idle_timeout = 3600
log_level = warn
CONF
HUB_DISPATCH=0 valgrind --tool=callgrind \
    --callgrind-out-file="$root/$out/cg.%p" build/hubd -c "$out/hubd.conf" \
    >"$out/hubd.txt" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
port=""
for _ in $(seq 600); do
    [ -s "$ports" ] && port=$(sed -n 's/^mllp=//p' "$ports" | head -1)
    [ -n "$port" ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.2
done
[ -n "$port" ] || { echo "hubd_cpu: hubd did not start (see $out/hubd.txt)" >&2; exit 1; }

$out/mllp_load -p "$port" -f "$corpus" -c "$conns" -n "$warm" -d 600 -w 0 \
    >"$out/warm.txt"
sleep 1                         # a new second: mllp_load's ids stay unique
callgrind_control -z $pid >/dev/null 2>&1
$out/mllp_load -p "$port" -f "$corpus" -c "$conns" -n "$msgs" -d 600 -w 0 \
    >"$out/load.txt"
callgrind_control -d $pid >/dev/null 2>&1
acked=$(sed -n 's/.* acked=\([0-9]*\).*/\1/p' "$out/load.txt")
[ "$acked" = "$msgs" ] || { echo "hubd_cpu: $acked of $msgs acked (see $out/load.txt)" >&2; exit 1; }
f=$out/cg.$pid.1     # the first dump (-d); the final one is .0 or none
tot=$(sed -n 's/^totals: *//p' "$f")
sha=$(callgrind_annotate --inclusive=yes --threshold=100 "$f" 2>/dev/null |
    awk '/:EVP_Digest /{ gsub(",", "", $1); s = $1 } END { print s }')
echo "hubd_cpu conns=$conns msgs=$msgs instructions_per_msg=$((tot / msgs))" \
    "sha256_per_msg=$((${sha:-0} / msgs)) out=$f"
