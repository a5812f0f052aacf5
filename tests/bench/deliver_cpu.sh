#!/usr/bin/env bash
# deliver_cpu.sh - PostgreSQL's cost of a webhook delivery (claim, send,
# outcome flush), without ingest running beside it: a backlog is ingested
# (tests/bench/ingest_cpu, the hub's own store_ingest_batch) into a scratch
# cluster with the dispatcher off, then a dispatcher node (deliver_bench run,
# hub/dispatch*.c) drains it to a loopback receiver (webhook_recv). Not part
# of `make bench`.
#
#   tests/bench/deliver_cpu.sh [SUBS...]          (default: 1 10)
#
# Per delivery, for each subscription count:
#   CPU mode (default): the CPU time (/proc/PID/task/*/schedstat, ns) of
#     the dispatcher's database backends (claim, flush, LISTEN) and of the
#     dispatcher process, and the whole cluster's CPU ticks (as
#     tests/bench/hubd.sh counts them), and queue_idx_read: the index
#     tuples read in delivery_queue (the claims' walks, past leased and
#     skipped rows too, the order probes, the flush's lookups), which the
#     machine's other load moves less (timing does: the leases a claim
#     walks past); backends_sys_pct, the kernel's share of those
#     backends' CPU (which callgrind does not count); and the drain's
#     claims, empty_claims (those that leased nothing) and flushes
#     (pg_stat_statements), which the load moves less. PROFILE=1 also prints
#     pg_stat_statements (track = all: the statements inside the
#     functions, wall time); EXPLAIN=1 logs every plan with its actual rows
#     (auto_explain, nested statements) to build/bench/deliver_cpu/pg/
#     postmaster.txt. The machine's other load moves these figures.
#   VALGRIND=1: the postmaster runs under callgrind for the drain only
#     (restarted after the backlog is in), so each backend's file holds
#     the drain alone: the instructions of the three backends, each
#     (sorted) and together, less what a backend that only connects
#     counts (connect_only_ir: mostly the postmaster's count at the fork,
#     which callgrind carries into each child), which other load does not
#     move. The rest of
#     the cluster there is mostly process start-up under callgrind. The
#     files are kept in build/bench/deliver_cpu/cg-N.
#   DISPATCH_VG=1: the dispatcher node under callgrind instead
#   SERIAL=1 (with VALGRIND=1): no dispatcher; one psql session claims
#     (hub_claim_deliveries, BATCH rows, default 256) and records each
#     claim's outcomes as delivered (hub_deliveries_delivered, as hubd
#     sends a batch of deliveries alone; FLUSH=hub_deliveries_done: the
#     full flush, as before 036) in turn until
#     the backlog is gone: the instructions of claim and flush together
#     per delivery (that backend less a backend that only connects), which
#     timing does not move (a drain's claims walk past however many leases
#     its flushes have not yet recorded), so that a change of a few per
#     cent shows. Nothing is sent. SERIAL=2: each claim goes out before
#     the outcomes of the one before are recorded (it walks past those
#     256 leases, as a draining dispatcher's refill does). PER: the
#     claim's per-endpoint cap (default 4096, which cannot bind); one
#     below BATCH runs the claim's ranked branch, which the dispatcher no
#     longer asks for: its claims are at most one endpoint's share, 256 by
#     default, as BATCH's default (F3940).
#     (build/bench/deliver_cpu/dispatch.cg), the cluster as it is.
# The backends' figure moves by a few per cent between runs of the same
# code: how many outcomes each flush takes and how many leased rows each
# claim walks past depend on timing.
# Knobs: HUB_PG_PORT (the scratch cluster's port; its socket is in
# build/bench/deliver_cpu/pg/run, no TCP; default 54329), DELIVERIES
# (about how many per run; default 4000).
# shellcheck disable=SC2046,SC2086  # CFLAGS and pkg-config output split into flags
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
port=${HUB_PG_PORT:-54329}
out=build/bench/deliver_cpu
mkdir -p "$out"
subs_list=${*:-1 10}
want=${DELIVERIES:-4000}
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
$CC $CFLAGS tests/bench/webhook_recv.c $(pkg-config --cflags --libs libevent) \
    -o $out/webhook_recv
corpus=$out/adt.hl7
[ -s "$corpus" ] || $out/gen_adt -n 20000 -s 42 -o "$corpus" 2>/dev/null

bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
pg=$root/$out/pg
mkdir -p "$pg/run"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ ! -s "$pg/data/PG_VERSION" ]; then
    rm -rf "$pg"
    mkdir -p "$pg/run" "$pg/cg"
    [ "$(id -u)" = 0 ] && chown -R postgres "$pg"
    as_pg "$bin/initdb" -D "$pg/data" -U postgres -A trust -E UTF8 \
        --locale=C.UTF-8 >"$out/initdb.txt" 2>&1
    cat >>"$pg/data/postgresql.conf" <<CONF
listen_addresses = ''
max_connections = 40
shared_buffers = 256MB
wal_buffers = 16MB
shared_preload_libraries = 'pg_stat_statements,auto_explain'
pg_stat_statements.track = all
log_min_messages = warning
CONF
fi
admin="postgresql://postgres@/postgres?host=$pg/run&port=$port"
url="postgresql://postgres@/hub_deliver_cpu?host=$pg/run&port=$port"
pm=""
recv=""
disp=""
pg_start() {               # $1 = 1: under callgrind
    if [ "${1:-0}" = 1 ]; then
        rm -f "$pg/cg"/cg.*
        # PROFILE=1 keeps pg_stat_statements (its hooks add to the count)
        local spl="-c shared_preload_libraries="
        [ "${PROFILE:-0}" = 1 ] && spl=""
        as_pg valgrind --tool=callgrind --callgrind-out-file="$pg/cg/cg.%p" \
            "$bin/postgres" -D "$pg/data" -p "$port" -k "$pg/run" $spl \
            >"$pg/postmaster.txt" 2>&1 &
        pm=$!
    else
        as_pg "$bin/pg_ctl" -D "$pg/data" -l "$pg/postmaster.txt" -w -t 60 \
            -o "-p $port -k $pg/run" start >/dev/null
    fi
    for _ in $(seq 300); do
        psql -qAt "$admin" -c 'select 1' >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    echo "deliver_cpu: the scratch cluster did not start" >&2
    exit 1
}
pg_stop() {
    as_pg "$bin/pg_ctl" -D "$pg/data" -m fast -w -t 300 stop >/dev/null 2>&1 || true
    if [ -n "$pm" ]; then wait "$pm" 2>/dev/null || true; fi
    pm=""
}
cleanup() {
    if [ -n "$disp" ]; then kill "$disp" 2>/dev/null || true; fi
    if [ -n "$recv" ]; then kill "$recv" 2>/dev/null || true; fi
    pg_stop
}
trap cleanup EXIT
q() { psql -qAt "$url" -c "$1"; }
# CPU ticks of the whole cluster: the postmaster with the children it
# reaped, and the live ones (as tests/bench/hubd.sh counts it)
cluster_ticks() {
    local pmp c
    pmp=$(head -1 "$pg/data/postmaster.pid" 2>/dev/null) || { echo 0; return; }
    { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pmp/stat"
      for c in $(pgrep -P "$pmp"); do
          awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null || true
      done
    } | awk '{ s += $1 } END { print s + 0 }'
}
# index tuples read in delivery_queue (the claims' walks past leased
# and skipped rows, the order probes, the flush's lookups), as the
# backends reported them (at exit at the latest)
idx_read() {
    q "select pg_stat_clear_snapshot()" >/dev/null
    q "select coalesce(sum(idx_tup_read), 0) from pg_stat_user_indexes
        where relname = 'delivery_queue'"
}
# ns of CPU a process (all its threads) has run (schedstat), 0 when gone
ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d\n", s }'; }
# "utime stime" ticks of a process, "0 0" when gone: the kernel's share
# (send, receive, wake-ups, WAL writes) is outside callgrind's count
ticks() { awk '{ print $14, $15 }' /proc/"$1"/stat 2>/dev/null || echo "0 0"; }

$out/webhook_recv >"$out/recv.txt" 2>&1 &
recv=$!
rport=""
for _ in $(seq 50); do
    rport=$(sed -n 's/^port=//p' "$out/recv.txt")
    [ -n "$rport" ] && break
    sleep 0.1
done

for n in $subs_list; do
    pg_stop
    pg_start 0
    psql -q "$admin" -c "drop database if exists hub_deliver_cpu" \
        -c "create database hub_deliver_cpu"
    DATABASE_URL=$url build/hubctl migrate >"$out/hubctl.txt" 2>&1
    for o in "bench-hosp hospital ingest" "bench-cbo cbo subscribe"; do
        set -- $o
        DATABASE_URL=$url build/hubctl org add "$1" --name "Bench $2" \
            --kind "$2" --scopes "$3" >>"$out/hubctl.txt" 2>&1
    done
    $out/deliver_bench subs -u "$url" -o bench-cbo -n "$n" \
        -r "http://127.0.0.1:$rport" >/dev/null
    msgs=$(( want / n ))
    $out/ingest_cpu -u "$url" -f "$corpus" -b 64 -n "$msgs" -w 0 >/dev/null
    total=$(q "select count(*) from delivery_queue")
    q "create extension if not exists pg_stat_statements" >/dev/null
    q "vacuum analyze" >/dev/null
    q "checkpoint" >/dev/null
    if [ "${EXPLAIN:-0}" = 1 ]; then
        q "alter database hub_deliver_cpu set auto_explain.log_min_duration = 0" >/dev/null
        q "alter database hub_deliver_cpu set auto_explain.log_analyze = on" >/dev/null
        q "alter database hub_deliver_cpu set auto_explain.log_nested_statements = on" >/dev/null
        q "alter database hub_deliver_cpu set auto_explain.log_buffers = on" >/dev/null
    fi
    pg_stop
    pg_start "${VALGRIND:-0}"
    if [ "${VALGRIND:-0}" != 1 ] || [ "${PROFILE:-0}" = 1 ]; then
        q "select pg_stat_statements_reset()" >/dev/null
    fi
    pmpid=$(head -1 "$pg/data/postmaster.pid")
    if [ "${SERIAL:-0}" != 0 ]; then
        batch=${BATCH:-256}
        per=${PER:-4096}
        # each attempt row's detail as the dispatcher writes it (dispatch_db.c
        # put_detail, one a line), from the ids the claim returned: made
        # here, by awk (psql's backquotes), not by the server, as hubd
        # makes it outside
        cat >"$out/details.awk" <<'AWK'
function el(s, i,   a) { split(substr(s, 2, length(s) - 2), a, ","); return a[i] }
BEGIN {
    n = split(substr(at, 2, length(at) - 2), atts, ",")
    for (i = 1; i <= n; i++)
        printf "%s{\"code\": 204, \"node\": \"serial\", \"error\": null, " \
            "\"event\": \"%s\", \"attempt\": %s, \"outcome\": \"delivered\", " \
            "\"recipient\": \"%s\", \"latency_ms\": 5, \"subscription\": " \
            "\"%s\"}", (i > 1 ? "\n" : ""), el(ev, i), atts[i], el(rc, i),
            el(sb, i)
}
AWK
        # what hubd calls for a batch of deliveries alone (036), where the
        # tree has it; FLUSH=hub_deliveries_done: the full flush instead
        flush_fn=${FLUSH:-$(q "select coalesce(
            to_regproc('hub_deliveries_delivered')::text, 'hub_deliveries_done')")}
        {
            echo "\\o $out/serial.pid"
            echo "SELECT pg_backend_pid();"
            echo "\\o"
            # SERIAL=2: each claim goes out before the last one's
            # outcomes are recorded, as a draining dispatcher's refill
            # does (it walks past those leases)
            claim() {       # $1: the variables' prefix
                echo "SELECT array_agg(id) ${1}ids, array_agg(token) ${1}toks,
                    array_agg(attempt) ${1}atts, array_agg(204) ${1}codes,
                    array_agg(NULL::text) ${1}errs, array_agg(5) ${1}lats,
                    array_agg('delivered'::text) ${1}outs,
                    array_agg(0::bigint) ${1}dels, array_agg(event) ${1}evs,
                    array_agg(recipient) ${1}rcs,
                    array_agg(subscription) ${1}sbs,
                    array_agg(DISTINCT subscription) ${1}usbs
                  FROM hub_claim_deliveries('serial', 60000, $batch, $per,
                    '{}') \\gset"
                echo "\\set ${1}dets \`awk -v at=:'${1}atts' -v ev=:'${1}evs'" \
                     "-v rc=:'${1}rcs' -v sb=:'${1}sbs' -f $out/details.awk\`"
            }
            done_() {
                echo "SELECT $flush_fn('serial', :'${1}ids',
                    :'${1}toks', :'${1}atts', :'${1}codes', :'${1}errs',
                    :'${1}lats', :'${1}outs', :'${1}dels',
                    string_to_array(:'${1}dets', E'\\n', ''),
                    :'${1}usbs');"
            }
            if [ "$SERIAL" = 2 ]; then claim a_; fi
            # a claim takes at most per rows of the one endpoint
            take=$(( per < batch ? per : batch ))
            for _ in $(seq $(( total / take / 2 + 2 ))); do
                if [ "$SERIAL" = 2 ]; then
                    claim b_; done_ a_
                    claim a_; done_ b_
                else
                    claim a_; done_ a_
                    claim a_; done_ a_
                fi
            done
        } >"$out/serial.sql"
        psql -qAt "$url" -f "$out/serial.sql" >"$out/serial.txt" 2>&1
        psql -qAt "$url" -o "$out/serial0.pid" -c "SELECT pg_backend_pid()"
        if [ "${PROFILE:-0}" = 1 ]; then
            # under callgrind a statement's time follows its instructions:
            # each statement's share of the serial session's
            psql -q "$url" -c "select calls, rows,
                    round((100 * total_exec_time / sum(total_exec_time)
                        filter (where toplevel) over ())::numeric, 1) as pct,
                    toplevel as top, wal_records as wal,
                    left(regexp_replace(query, '\s+', ' ', 'g'), 120) as query
                from pg_stat_statements where calls > 0
                order by total_exec_time desc limit 30" \
                >"$out/serial_profile.txt"
            cat "$out/serial_profile.txt"
        fi
        sleep 1
        pg_stop
        sp=$(tr -dc 0-9 <"$out/serial.pid")
        s0=$(tr -dc 0-9 <"$out/serial0.pid")
        pg_start 0
        delivered=$(q "select count(*) from delivery_state where status = 'delivered'")
        open=$(q "select count(*) from delivery_queue")
        # the details the harness wrote are as the dispatcher's would be
        bad=$(q "select count(*) from audit where action = 'delivery.attempt'
                 and (detail <> detail::jsonb::text
                      or detail::jsonb->>'node' <> 'serial')")
        pg_stop
        t1=$(sed -n 's/^totals: *//p' "$pg/cg/cg.$sp")
        t0=$(sed -n 's/^totals: *//p' "$pg/cg/cg.$s0")
        echo "deliver_cpu serial=$SERIAL subs=$n batch=$batch per=$per flush=$flush_fn deliveries=$delivered" \
             "open=$open bad_details=$bad claim_and_flush_ir=$(( (t1 - t0) / delivered ))"
        rm -rf "$out/cg-serial-$n"; mkdir -p "$out/cg-serial-$n"
        cp "$pg/cg/cg.$sp" "$out/cg-serial-$n/"
        continue
    fi
    curl -fsS -o /dev/null "http://127.0.0.1:$rport/reset"
    i0=$(idx_read)
    c0=$(cluster_ticks)
    if [ "${DISPATCH_VG:-0}" = 1 ]; then
        # the dispatcher node under callgrind (its instructions per
        # delivery), the cluster as it is
        valgrind --tool=callgrind --callgrind-out-file="$out/dispatch.cg" \
            $out/deliver_bench run -u "$url" -d 3600 >"$out/dispatch.txt" 2>&1 &
    else
        $out/deliver_bench run -u "$url" -d 3600 >"$out/dispatch.txt" 2>&1 &
    fi
    disp=$!
    bpids=""
    for _ in $(seq 100); do
        bpids=$(q "select string_agg(pid::text, ' ') from pg_stat_activity
                    where application_name = 'hubd-dispatch'")
        [ "$(wc -w <<<"$bpids")" -ge 3 ] && break
        sleep 0.2
    done
    # the receiver's count, not the database (a poll there is a backend
    # of its own, counted with the rest of the cluster)
    while :; do
        c=$(curl -fsS "http://127.0.0.1:$rport/stats" | tr ' ' '\n' |
            sed -n 's/^count=//p')
        [ "${c:-0}" -ge "$total" ] && break
        sleep 0.5
    done
    # the drain's rate at the receiver, first delivery to last (as
    # tests/bench/hubd.sh counts it)
    rate=$(curl -fsS "http://127.0.0.1:$rport/stats" | tr ' ' '\n' | awk -F= '
        $1 == "count" { c = $2 } $1 == "first_us" { f = $2 }
        $1 == "last_us" { l = $2 }
        END { if (l > f) printf "%.0f", (c - 1) * 1e6 / (l - f); else print "?" }')
    sleep $([ "${VALGRIND:-0}" = 1 ] && echo 5 || echo 1)   # the last flush
    while [ "$(q "select count(*) from delivery_queue")" != 0 ]; do
        sleep 2
    done
    b_ns=0 b_ut=0 b_st=0
    for p in $bpids; do
        b_ns=$(( b_ns + $(ns "$p") ))
        read -r ut st <<<"$(ticks "$p")"
        b_ut=$(( b_ut + ut )) b_st=$(( b_st + st ))
    done
    d_ns=$(ns "$disp")
    kill "$disp"
    wait "$disp" 2>/dev/null || true
    disp=""
    sleep 0.5           # its backends end and are reaped (then counted)
    c1=$(cluster_ticks)
    i1=$(idx_read)
    delivered=$(q "select count(*) from delivery_state where status = 'delivered'")
    if [ "${DISPATCH_VG:-0}" = 1 ]; then
        sleep 2
        echo "deliver_cpu subs=$n deliveries=$delivered dispatcher_ir=$(( $(sed -n 's/^totals: *//p' "$out/dispatch.cg") / delivered ))"
        continue
    fi
    if [ "${VALGRIND:-0}" != 1 ]; then
        # the dispatcher's calls (pg_stat_statements, reset before the
        # drain): claims, those that leased nothing (no hub_durable()),
        # outcome flushes (either path); timing moves them less than the CPU figures
        calls=$(q "select coalesce(sum(calls) filter (where query like '%FROM hub_claim_deliveries(%'), 0)
                       || ' ' || coalesce(sum(calls) filter (where query = 'SELECT hub_durable()'), 0)
                       || ' ' || coalesce(sum(calls) filter (where query like 'SELECT hub_deliveries_done(%'
                                                         or query like 'SELECT hub_deliveries_delivered(%'), 0)
                     from pg_stat_statements")
        read -r n_claims n_durable n_flushes <<<"$calls"
        echo "deliver_cpu subs=$n deliveries=$delivered of=$total" \
             "backends_us=$(awk -v a="$b_ns" -v n="$delivered" 'BEGIN { printf "%.1f", a / 1000 / n }')" \
             "backends_sys_pct=$(awk -v u="$b_ut" -v s="$b_st" 'BEGIN { printf "%.0f", ((u + s) > 0 ? 100 * s / (u + s) : 0) }')" \
             "dispatcher_us=$(awk -v a="$d_ns" -v n="$delivered" 'BEGIN { printf "%.1f", a / 1000 / n }')" \
             "cluster_us=$(awk -v a=$((c1 - c0)) -v n="$delivered" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", a * 1e6 / hz / n }')" \
             "rate=$rate" \
             "queue_idx_read=$(awk -v a="$i0" -v b="$i1" -v n="$delivered" 'BEGIN { printf "%.1f", (b - a) / n }')" \
             "claims=$n_claims empty_claims=$(( n_claims - n_durable )) flushes=$n_flushes" \
             "$(sed -n 's/^dispatch sending_ms/sending_ms/p' "$out/dispatch.txt")"
        if [ "${PROFILE:-0}" = 1 ]; then
            psql -q "$url" -c "select calls, round(total_exec_time::numeric, 1) as ms,
                    round((total_exec_time * 1000 / $delivered)::numeric, 2) as us_per_dlv,
                    rows, wal_records as wal, left(regexp_replace(query, '\s+', ' ', 'g'), 110) as query
                from pg_stat_statements where calls > 0
                order by total_exec_time desc limit 25"
        fi
        continue
    fi
    # a backend that only connects: each backend's file starts from the
    # count the postmaster had at its fork (callgrind does not reset it,
    # about 64M instructions here), which is no cost of the drain; taken
    # off each, as the serial figure takes it off
    s0=$(q "select pg_backend_pid()")
    sleep 1
    pg_stop
    tot() { sed -n 's/^totals: *//p' "$pg/cg/cg.$1" 2>/dev/null || echo 0; }
    t0=$(tot "$s0")
    b_ir=0 each=""
    for p in $bpids; do
        b_ir=$(( b_ir + $(tot "$p") - t0 ))
        each="$each $(( ($(tot "$p") - t0) / delivered ))"
    done
    all_ir=0
    for f in "$pg"/cg/cg.*; do
        [ "${f##*.}" = "$pmpid" ] && continue
        all_ir=$(( all_ir + $(sed -n 's/^totals: *//p' "$f") ))
    done
    echo "deliver_cpu subs=$n deliveries=$delivered of=$total" \
         "backends_ir=$(( b_ir / delivered )) ($(tr ' ' '\n' <<<"$each" | sort -n | tr '\n' ' '| sed 's/^ *//; s/ *$//'))" \
         "rest_of_cluster_ir=$(( (all_ir - b_ir) / delivered ))" \
         "connect_only_ir=$t0" \
         "dispatcher_us=$(awk -v a="$d_ns" -v n="$delivered" 'BEGIN { printf "%.1f", a / 1000 / n }')"
    rm -rf "$out/cg-$n"; mkdir -p "$out/cg-$n"
    for p in $bpids; do cp "$pg/cg/cg.$p" "$out/cg-$n/"; done
done
