#!/usr/bin/env bash
# claim_skip.sh - what a claim costs that passes a backlogged endpoint by
# (F3943): BACKLOG due rows (default 100,000) at one endpoint, which the
# claims skip (held, or at its share), and a few new rows at another; each
# claim (hub_claim_deliveries with the first endpoint in its skip list,
# rolled back, so each finds the same rows) is timed, and the index and heap
# tuples it read are counted. Not part of `make bench`.
#
#   HUB_TEST_ADMIN_URL=postgresql://... tests/bench/claim_skip.sh
#
# Prints: claim_skip backlog=N other=M claims=C ms_per_claim=X
#         taken=T (rows of the other endpoint leased a claim)
#         due_idx_read=.. ep_idx_read=.. heap_fetch=.. (a claim)
# Knobs: BACKLOG, CLAIMS (default 20), DB (default hub_claim_skip; kept
# between runs when KEEP=1, so that the backlog is ingested once);
# OTHERS=N: N endpoints more, each with a backlog as large (every event
# goes to all), one skipped: what a claim reads of the others (F4123).
# shellcheck disable=SC2046,SC2086  # CFLAGS and pkg-config output split into flags
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
admin=${HUB_TEST_ADMIN_URL:?the admin URL of a PostgreSQL (deploy/devdb.sh url postgres)}
db=${DB:-hub_claim_skip}
backlog=${BACKLOG:-100000}
claims=${CLAIMS:-20}
url=${admin/\/postgres\?//$db?}
out=build/bench/claim_skip
mkdir -p "$out"
CC=${CC:-cc}
CFLAGS="-O2 -g -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
-Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2 -pthread -Iadapters -Ihub"
LIBS=$(pkg-config --libs libevent libevent_openssl libevent_pthreads \
    libcjson libcurl libxml-2.0 libpq openssl)
make -s build
$CC $CFLAGS tests/bench/gen_adt.c -o $out/gen_adt
$CC $CFLAGS tests/bench/ingest_cpu.c build/libhub.a build/libadapters.a \
    $LIBS -lm -o $out/ingest_cpu
$CC $CFLAGS $(pkg-config --cflags libpq libcjson) tests/bench/deliver_bench.c \
    build/libhub.a build/libadapters.a $LIBS -lm -o $out/deliver_bench
corpus=$out/adt.hl7
[ -s "$corpus" ] || $out/gen_adt -n 20000 -s 42 -o "$corpus" 2>/dev/null
q() { psql -qAt "$url" -c "$1"; }

have=$(psql -qAt "$admin" -c "select 1 from pg_database where datname = '$db'")
if [ "${KEEP:-0}" != 1 ] || [ "$have" != 1 ] ||
   [ "$(q "select count(*) from delivery_queue")" -lt "$backlog" ]; then
    psql -q "$admin" -c "drop database if exists $db" -c "create database $db"
    DATABASE_URL=$url build/hubctl migrate >"$out/hubctl.txt" 2>&1
    for o in "bench-hosp hospital ingest" "bench-cbo cbo subscribe"; do
        set -- $o
        DATABASE_URL=$url build/hubctl org add "$1" --name "Bench $2" \
            --kind "$2" --scopes "$3" >>"$out/hubctl.txt" 2>&1
    done
    # the backlogged endpoint (nothing listens: no dispatcher runs)
    $out/deliver_bench subs -u "$url" -o bench-cbo -n 1 \
        -r "http://127.0.0.1:9" >/dev/null
    if [ "${OTHERS:-0}" -gt 0 ]; then
        # OTHERS endpoints more, each with as large a backlog (F4123)
        for i in $(seq "$OTHERS"); do
            $out/deliver_bench subs -u "$url" -o bench-cbo -n 1 \
                -r "http://127.0.0.$(( i + 1 )):9" >/dev/null
        done
        $out/ingest_cpu -u "$url" -f "$corpus" -b 64 -n "$backlog" -w 0 >/dev/null
    else
        $out/ingest_cpu -u "$url" -f "$corpus" -b 64 -n "$backlog" -w 0 >/dev/null
        # then another endpoint, and a few new events for both
        $out/deliver_bench subs -u "$url" -o bench-cbo -n 1 \
            -r "http://127.0.0.2:9" >/dev/null
        $out/ingest_cpu -u "$url" -f "$corpus" -b 64 -n 64 -w 0 >/dev/null
    fi
    q "vacuum analyze" >/dev/null
else
    # the schema of this tree (a kept database of another tree's)
    DATABASE_URL=$url build/hubctl migrate >"$out/hubctl.txt" 2>&1
fi
held=$(q "select endpoint from delivery_queue group by 1 order by count(*) desc, 1 limit 1")
other=$(q "select count(*) from delivery_queue where endpoint <> '$held'")
total=$(q "select count(*) from delivery_queue")
reads() {   # index tuples read (due index, endpoint index), heap fetches
    q "select pg_stat_clear_snapshot()" >/dev/null
    q "select coalesce(sum(idx_tup_read) filter (where indexrelname = 'delivery_queue_due'), 0),
              coalesce(sum(idx_tup_read) filter (where indexrelname <> 'delivery_queue_due'), 0),
              coalesce(sum(idx_tup_fetch), 0)
         from pg_stat_user_indexes where relname = 'delivery_queue'"
}
sleep 1
r0=$(reads)
{
    echo '\timing on'
    for _ in $(seq "$claims"); do
        echo "BEGIN;"
        echo "SELECT count(id) FROM hub_claim_deliveries('skip', 60000, 256, 256, ARRAY['$held']);"
        echo "ROLLBACK;"
    done
} | psql -qAt "$url" >"$out/claims.txt" 2>&1
sleep 1
r1=$(reads)
ms=$(grep -o 'Time: [0-9.]*' "$out/claims.txt" | awk '{ n++; s += $2 }
    END { if (n) printf "%.2f", s / (n / 3) }')
taken=$(grep -E '^[0-9]+$' "$out/claims.txt" | head -1)
echo "claim_skip backlog=$(( total - other )) other=$other claims=$claims" \
     "ms_per_claim=$ms taken=$taken $(awk -v a="$r0" -v b="$r1" -v n="$claims" '
        BEGIN { split(a, x, "|"); split(b, y, "|")
                printf "due_idx_read=%.0f ep_idx_read=%.0f heap_fetch=%.0f",
                    (y[1] - x[1]) / n, (y[2] - x[2]) / n, (y[3] - x[3]) / n }')"
