#!/usr/bin/env bash
# prune_pages.sh - pages of messages that the retention reads per daily run,
# in a steady state: DAYS simulated days, each one PER_DAY messages of
# RAW_BYTES (received_at in that day), then one run of hub_prune_step's
# messages walk as at that day's end (retention RETAIN days, batch BATCH),
# and a VACUUM every VACUUM_EVERY days (autovacuum's pace on this table at
# its default 20%), so that freed space is used again. Counted with
# pg_stat_get_xact_blocks_fetched (heap pages of messages, hits and reads)
# in the run's one transaction; the walk alone is a dry run's just before
# (a real run's deletes add two buffer accesses a row). After each run it checks, by a full scan
# outside the count, that no expired row is left. Not part of `make bench`.
#
#   tests/bench/prune_pages.sh                # the steady state of ~200k rows
#   SCHEMA=old.sql tests/bench/prune_pages.sh # a schema of before (its
#                                             # hub_prune_step has no p_now:
#                                             # the days are shifted instead)
#
# Prints one line per measured day (after WARM days) and the mean. KEEP=1
# leaves the database hub_prune_pages for a look.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export HUB_PG_PORT=${HUB_PG_PORT:-54329}
DAYS=${DAYS:-70} WARM=${WARM:-40} PER_DAY=${PER_DAY:-6700}
RAW_BYTES=${RAW_BYTES:-1000} RETAIN=${RETAIN:-30} BATCH=${BATCH:-5000}
VACUUM_EVERY=${VACUUM_EVERY:-6}
make -s build
deploy/devdb.sh start >/dev/null
url=$(deploy/devdb.sh createdb hub_prune_pages 2>/dev/null | tail -1)
if [ -n "${SCHEMA:-}" ]; then
    psql -q -X -v ON_ERROR_STOP=1 "$url" -f "$SCHEMA" >/dev/null
else
    DATABASE_URL=$url build/hubctl migrate >/dev/null 2>&1
fi
q() { psql -q -X -A -t -v ON_ERROR_STOP=1 "$url" -c "$1"; }
q "INSERT INTO organizations (id, name, kind)
   VALUES ('bench-hosp', 'Bench Hospital', 'hospital')" >/dev/null
has_now=$(q "SELECT count(*) FROM pg_proc WHERE proname = 'hub_prune_step'
             AND 'p_now' = ANY (proargnames)")
# day d's end, as the time the run takes as now: DAYS days ago is day 0's
q "CREATE TABLE bench_t0 AS SELECT date_trunc('day', now())
   - interval '$DAYS days' AS t0" >/dev/null
# one run, all its steps in one transaction: rows, steps, pages
q "CREATE FUNCTION bench_run(p_d int, p_dry boolean, OUT r bigint, OUT steps int,
       OUT pages bigint) LANGUAGE plpgsql AS \$\$
   DECLARE a text; x record; b0 bigint; v_now timestamptz; BEGIN
     SELECT t0 + (p_d + 1) * interval '1 day' INTO v_now FROM bench_t0;
     r := 0; steps := 0;
     b0 := pg_stat_get_xact_blocks_fetched('messages'::regclass);
     LOOP
       IF $has_now > 0 THEN
         EXECUTE 'SELECT * FROM hub_prune_step(''messages'', \$1, \$2, \$3,
                  \$5, 0, \$4)' INTO x USING $RETAIN, a, $BATCH, v_now, p_dry;
       ELSE
         EXECUTE 'SELECT * FROM hub_prune_step(''messages'', \$1, \$2, \$3,
                  \$4, 0)' INTO x
           USING $RETAIN + ($DAYS - 1 - p_d), a, $BATCH, p_dry;
       END IF;
       r := r + x.pruned; steps := steps + 1; a := x.next_after;
       EXIT WHEN x.done;
     END LOOP;
     pages := pg_stat_get_xact_blocks_fetched('messages'::regclass) - b0;
   END \$\$" >/dev/null
sum=0 sumr=0 n=0
for d in $(seq 0 $((DAYS - 1))); do
    q "INSERT INTO messages (org_id, format, sha256, raw, status, event_ids,
                             received_at)
       SELECT 'bench-hosp', 'hl7v2', md5(i::text),
              convert_to(substr(repeat(md5(i::text) || md5((-i)::text), 40),
                                1, $RAW_BYTES), 'UTF8'),
              'accepted', '[]',
              t0 + $d * interval '1 day' + i * interval '1 day' / $PER_DAY
         FROM bench_t0, generate_series(0, $PER_DAY - 1) i" >/dev/null
    walk=$(q "SELECT pages FROM bench_run($d, true)")
    out=$(q "SELECT r || ' ' || steps || ' ' || pages FROM bench_run($d, false)")
    left=$(q "SELECT count(*) FROM messages, bench_t0
              WHERE received_at < t0 + ($d + 1 - $RETAIN) * interval '1 day'")
    [ "$left" = 0 ] || { echo "day $d: $left expired rows left" >&2; exit 1; }
    if [ $((d % VACUUM_EVERY)) = $((VACUUM_EVERY - 1)) ]; then
        q "VACUUM messages" >/dev/null
    fi
    if [ "$d" -ge "$WARM" ]; then
        read -r rows steps pages <<<"$out"
        size=$(q "SELECT pg_relation_size('messages') / 8192")
        live=$(q "SELECT count(*) FROM messages")
        echo "day $d: pruned $rows rows in $steps steps; pages: walk" \
             "$walk (dry run), run $pages (with the deletes); table" \
             "$size pages, $live rows"
        sum=$((sum + walk)) sumr=$((sumr + pages)) n=$((n + 1))
    fi
done
echo "mean pages per run: walk $((sum / n)), run $((sumr / n))"
[ "${KEEP:-0}" = 1 ] || deploy/devdb.sh dropdb hub_prune_pages >/dev/null 2>&1 || true
