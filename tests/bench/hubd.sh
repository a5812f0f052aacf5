# shellcheck shell=bash
# shellcheck disable=SC2154  # out, log, root, corpus, ... come from run.sh
# hubd.sh - the hubd rows of `make bench`, sourced by run.sh (which provides
# put, say, field, mllp_rows, proc_ticks, pg_ticks, idle_rss, pids, out,
# log, corpus, CONNS, SECS, IDLE and the running private PostgreSQL).
#
# Full durable path: a fresh database, `hubctl migrate`, one hospital org,
# hubd with a config file whose plain MLLP listener (ephemeral loopback port)
# is bound to that org; then the closed-loop load at each connection count,
# and resident memory with IDLE idle connections. A hubd that does not come
# up leaves its rows "failed", with its log in build/bench/log/hubd.txt.

hub_org=bench-hosp

# hubd_start: fresh database, migrate, org, config, start; sets hubd_pid,
# hubd_mllp, hubd_http. Returns 1 when hubd did not become ready.
hubd_start() {
    local conf=$out/hubd.conf ports=$root/$out/hubd.ports
    hub_url=$(deploy/devdb.sh createdb hub_bench 2>/dev/null | tail -1)
    DATABASE_URL=$hub_url build/hubctl migrate >"$log/hubctl.txt" 2>&1 ||
        { say "hubctl migrate failed (see $log/hubctl.txt)"; return 1; }
    if [ "${BENCH_PROFILE:-0}" = 1 ]; then
        # per-function SQL times, dumped by hubd_stop (perturbs the figures)
        psql -q "$hub_url" -c "ALTER DATABASE hub_bench SET track_functions = 'all'"
    fi
    DATABASE_URL=$hub_url build/hubctl org add "$hub_org" --name "Bench Hospital" \
        --kind hospital --scopes ingest,subscribe >>"$log/hubctl.txt" 2>&1 ||
        { say "hubctl org add failed (see $log/hubctl.txt)"; return 1; }
    # HTTPS with development certificates and a bearer token, when the
    # certificate script is there; the HTTPS row is n/a otherwise.
    local https_conf="https_port = -1" certs=$root/$out/certs
    rm -f "$out/token"
    if [ -x certs/mkcerts.sh ] &&
       certs/mkcerts.sh "$certs" "$hub_org" >"$log/certs.txt" 2>&1 &&
       (umask 077; DATABASE_URL=$hub_url build/hubctl token create "$hub_org" \
           --scopes ingest >"$out/token" 2>>"$log/hubctl.txt"); then
        https_conf="https_bind = 127.0.0.1
https_port = 0
tls_cert = $certs/server.crt
tls_key = $certs/server.key
tls_ca = $certs/ca.crt"
    fi
    cat >"$conf" <<CONF
# written by tests/bench/hubd.sh for one bench run
profile = dev
database_url = $hub_url
mllp_bind = 127.0.0.1
mllp_port = 0
mllp_org = $hub_org
mllps_port = -1
$https_conf
http_port = 0
# capacity is measured here, not the per-organization request limit
rate_limit = 0
ports_file = $ports
max_connections = $(( IDLE + 1024 ))
idle_timeout = 3600
log_level = warn
CONF
    rm -f "$ports"
    # HUB_DISPATCH=0 while a backlog is built for the delivery rows
    HUB_DISPATCH=${HUB_DISPATCH:-1} HUB_WEBHOOK_ALLOW_PRIVATE=1 \
        build/hubd -c "$conf" >>"$log/hubd.txt" 2>&1 &
    hubd_pid=$!
    pids+=("$hubd_pid")
    hubd_mllp="" hubd_http="" hubd_https=""
    for _ in $(seq 300); do
        if [ -s "$ports" ]; then
            hubd_mllp=$(sed -n 's/^mllp=//p' "$ports" | head -1)
            hubd_http=$(sed -n 's/^http=//p' "$ports" | head -1)
            hubd_https=$(sed -n 's/^https=//p' "$ports" | head -1)
            break
        fi
        kill -0 "$hubd_pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$hubd_mllp" ]; then
        say "hubd did not start (see $log/hubd.txt)"
        return 1
    fi
    if [ -n "$hubd_http" ]; then
        for _ in $(seq 100); do
            curl -fsS -o /dev/null "http://127.0.0.1:$hubd_http/readyz" && break
            sleep 0.1
        done
    fi
    return 0
}

hubd_stop() {
    [ -n "${hubd_pid:-}" ] || return 0
    if [ "${BENCH_PROFILE:-0}" = 1 ]; then
        { echo "== hubd phase with HUB_DISPATCH=${HUB_DISPATCH:-1}"
          psql -q "$hub_url" -c "SELECT funcname, calls,
                round(total_time::numeric, 1) AS total_ms,
                round(self_time::numeric, 1) AS self_ms,
                round((self_time / greatest(calls, 1))::numeric, 3) AS self_ms_per_call
            FROM pg_stat_user_functions ORDER BY self_time DESC LIMIT 25"
        } >>"$log/sql_profile.txt" 2>&1 || true
    fi
    kill "$hubd_pid" 2>/dev/null || true
    wait "$hubd_pid" 2>/dev/null || true
    hubd_pid=""
}

# recv_count: deliveries the receiver has counted since its last reset.
recv_count() {
    curl -fsS "http://127.0.0.1:$recv_port/stats" 2>/dev/null |
        tr ' ' '\n' | sed -n 's/^count=//p'
}

# Does hubd run a dispatcher of its own (unless HUB_DISPATCH=0)?
hubd_dispatches() {
    grep -l dispatch_start hub/*.c 2>/dev/null | grep -v '^hub/dispatch.c$' \
        | grep . >/dev/null
}

# dispatcher_start / dispatcher_stop: a dispatcher node (deliver_bench run),
# unless hubd (started with HUB_DISPATCH=1) dispatches itself.
dispatcher_start() {
    if [ "${HUB_DISPATCH:-1}" = 1 ] && hubd_dispatches; then
        disp_pid=""
        return 0
    fi
    $out/deliver_bench run -u "$hub_url" -d 600 >>"$log/dispatch.txt" 2>&1 &
    disp_pid=$!
    pids+=("$disp_pid")
}
dispatcher_stop() {
    [ -n "$disp_pid" ] || return 0
    kill "$disp_pid" 2>/dev/null || true
    wait "$disp_pid" 2>/dev/null || true
}

# drain_rate N: ingest a backlog for about SECS/2 at 32 connections with no
# dispatcher, then start one and time the receiver until the backlog is
# delivered (no progress for 2 s) or SECS pass. Records deliver.N.rate.
drain_rate() {
    local n=$1 bl=$(( SECS / 2 > 1 ? SECS / 2 : 1 )) t0 tl now c last=0
    say "deliveries: backlog of ${bl}s of ingest, $n subscription(s)"
    $out/mllp_load -p "$hubd_mllp" -f "$corpus" -c 32 -d "$bl" -w 0 \
        >>"$log/deliver_ingest.txt" 2>&1 || true
    curl -fsS -o /dev/null "http://127.0.0.1:$recv_port/reset" || true
    local pg0 rx0 d1=0 pg1 rx1
    pg0=$(pg_ticks)
    rx0=$(proc_ticks "$recv_pid")
    t0=$(date +%s.%N)
    tl=$t0
    dispatcher_start
    while :; do
        sleep 0.2
        now=$(date +%s.%N)
        c=$(recv_count)
        c=${c:-0}
        if [ "$c" -gt "$last" ]; then last=$c; tl=$now; fi
        awk -v a="$now" -v b="$tl" -v t="$t0" -v s="$SECS" \
            'BEGIN { exit !((a - b > 2 && a - t > 2) || a - t > s) }' && break
    done
    [ -n "$disp_pid" ] && d1=$(proc_ticks "$disp_pid")
    dispatcher_stop
    sleep 0.5           # its backends end and are reaped (then counted)
    pg1=$(pg_ticks)
    rx1=$(proc_ticks "$recv_pid")
    # The rate is counted at the receiver from its first delivery to its
    # last (steady state, as the plain-POST ceiling is); the dispatcher's
    # start (process, connections, first claim) and the 0.2 s polling are
    # outside it. The start-inclusive figure stays in the log.
    local st span
    st=$(curl -fsS "http://127.0.0.1:$recv_port/stats" 2>/dev/null || true)
    span=$(awk -v f="$(field "$st" first_us)" -v l="$(field "$st" last_us)" \
        'BEGIN { if (f > 0 && l > f) printf "%.6f", (l - f) / 1e6 }')
    echo "deliver n=$n delivered=$last secs_with_start=$(awk -v a="$tl" \
        -v t="$t0" 'BEGIN { print a - t }') secs_first_to_last=${span:-?}" \
        >>"$log/deliver.txt"
    # CPU per delivery (us): PostgreSQL (its whole cluster), the dispatcher
    # node, the receiver
    if [ "$last" -gt 0 ]; then
        local cpu
        cpu=$(awk -v n="$last" -v hz="$(getconf CLK_TCK)" -v p=$((pg1 - pg0)) \
            -v d="$d1" -v r=$((rx1 - rx0)) 'BEGIN {
            printf "pg=%.1f dispatcher=%.1f receiver=%.1f",
                p * 1e6 / hz / n, d * 1e6 / hz / n, r * 1e6 / hz / n }')
        echo "deliver n=$n cpu_us_per_delivery $cpu" >>"$log/deliver.txt"
        put "deliver.$n.cpu_pg_us" "$(field "$cpu" pg)"
        put "deliver.$n.cpu_dispatcher_us" "$(field "$cpu" dispatcher)"
        put "deliver.$n.cpu_receiver_us" "$(field "$cpu" receiver)"
    fi
    # nothing delivered leaves the row "failed" (a false test here would
    # end the whole run under set -e)
    if [ "$last" -gt 1 ] && [ -n "$span" ]; then
        put "deliver.$n.rate" \
            "$(awk -v c="$(field "$st" count)" -v s="$span" 'BEGIN { printf "%.0f", (c - 1) / s }')"
    fi
}

# latency_at_rate: 1,000 msg/s offered on 64 connections (enough that the
# pacing, not the closed loop, sets the rate) with a dispatcher
# running; the receiver times each delivery against the send time that
# mllp_load stamps into MSH-10. The percentiles of the row are those of
# the messages sent in mllp_load's measured window (after its 1 s
# warm-up, as its ACK latencies are); those of every delivery, warm-up
# included, are recorded beside them (deliver.lat.all_p50/all_p99).
# latency_at_rate [CORPUS KEY]: another corpus, its figures under
# deliver.KEY.* (the bursts of one patient: deliver.burst).
latency_at_rate() {
    local line st src=${1:-$corpus} key=${2:-lat}
    say "deliveries: ingest-to-delivery at 1,000 msg/s ($key), ${SECS}s"
    curl -fsS -o /dev/null "http://127.0.0.1:$recv_port/reset" || true
    dispatcher_start
    sleep 1
    echo "== $key: $src" >>"$log/deliver_latency.txt"
    line=$($out/mllp_load -p "$hubd_mllp" -f "$src" -c 64 -r 1000 \
        -d "$SECS" -w 1 2>>"$log/deliver_latency.txt" || true)
    echo "$line" >>"$log/deliver_latency.txt"
    # let the last deliveries land: every ACKed message, or 10 s
    local acked c
    acked=$(field "$line" acked)
    for _ in $(seq 50); do
        c=$(recv_count)
        [ -n "$acked" ] && [ "${c:-0}" -ge "$acked" ] && break
        sleep 0.2
    done
    st=$(curl -fsS "http://127.0.0.1:$recv_port/stats?from_us=$(field "$line" meas_from_us)" || true)
    echo "receiver $st" >>"$log/deliver_latency.txt"
    # every sample (send time, latency; us), to place the slow ones in
    # time beside hubd's and PostgreSQL's logs
    curl -fsS "http://127.0.0.1:$recv_port/samples" \
        >"$log/deliver_latency_samples_$key.txt" || true
    dispatcher_stop
    if [ "$(field "$st" lat_n)" != "0" ] && [ -n "$(field "$st" lat_n)" ]; then
        put "deliver.$key.p50" "$(field "$st" from_p50_ms)"
        put "deliver.$key.p99" "$(field "$st" from_p99_ms)"
        put "deliver.$key.all_p50" "$(field "$st" p50_ms)"
        put "deliver.$key.all_p99" "$(field "$st" p99_ms)"
        put "deliver.$key.achieved" "$(field "$line" msgs_per_s)"
        put "deliver.$key.n" "$(field "$st" lat_n)"
        put "deliver.$key.acked" "$(field "$line" acked)"
    fi
}

# subscribe N: N more subscriptions of the CBO to the receiver.
subscribe() {
    $out/deliver_bench subs -u "$hub_url" -o bench-cbo -n "$1" \
        -r "http://127.0.0.1:$recv_port" >>"$log/dispatch.txt" 2>&1
}
add_cbo() {
    DATABASE_URL=$hub_url build/hubctl org add bench-cbo --name "Bench CBO" \
        --kind cbo --scopes subscribe >>"$log/hubctl.txt" 2>&1
}

# https_row: durable ingest over HTTPS (POST /v1/hl7v2, one message per
# request, bearer token) at 8 connections.
https_row() {
    local line
    if [ -z "$hubd_https" ] || [ ! -s "$out/token" ] || [ ! -x "$out/https_load" ]; then
        say "https: no HTTPS listener or token (see $log/certs.txt, $log/hubctl.txt)"
        return 0
    fi
    say "https: POST /v1/hl7v2, 8 connections, ${SECS}s"
    line=$($out/https_load -u "https://127.0.0.1:$hubd_https/v1/hl7v2" \
        -f "$corpus" -t "$out/token" -k "$root/$out/certs/ca.crt" -c 8 \
        -d "$SECS" -w "$WARM" 2>>"$log/https.txt" || true)
    echo "$line" >>"$log/https.txt"
    [ -n "$line" ] || return 0
    put https.8.rate "$(field "$line" msgs_per_s)"
    put https.8.p50 "$(field "$line" p50_ms)"
    put https.8.p99 "$(field "$line" p99_ms)"
    put https.8.refused "$(field "$line" refused)"
    put https.8.dups "$(field "$line" dups)"
}

# Phase 1, hubd's own dispatcher off: the ingest rows, then the delivery
# rates: a dispatcher node (the hub's dispatcher) drains a backlog.
HUB_DISPATCH=0
# https_doc_row KEY PATH TYPE LOAD_ARGS...: documents POSTed again and again
# at 8 connections (https_load template mode: LOAD_ARGS are its -b BODY -m
# MARKER pairs, -F, -U), every request new. Records https.KEY.*: rate is
# requests (documents) per second, units the -U count (CSV rows) per second.
https_doc_row() {
    local key=$1 path=$2 type=$3 line
    shift 3
    [ -n "$hubd_https" ] && [ -s "$out/token" ] || return 0
    say "https: POST $path, 8 connections, ${SECS}s"
    line=$($out/https_load -u "https://127.0.0.1:$hubd_https$path" \
        "$@" -T "$type" -t "$out/token" \
        -k "$root/$out/certs/ca.crt" -c 8 -d "$SECS" -w "$WARM" \
        2>>"$log/https_$key.txt" || true)
    echo "$line" >>"$log/https_$key.txt"
    [ -n "$line" ] || return 0
    put "https.$key.rate" "$(field "$line" msgs_per_s)"
    put "https.$key.p50" "$(field "$line" p50_ms)"
    put "https.$key.p99" "$(field "$line" p99_ms)"
    put "https.$key.refused" "$(field "$line" refused)"
    put "https.$key.dups" "$(field "$line" dups)"
    local u
    u=$(field "$line" units_per_s)
    [ -n "$u" ] && put "https.$key.units" "$u"
    return 0
}

# The FHIR screening bundle over HTTPS, once hubd routes POST /v1/fhir; its
# Bundle.identifier uuid's last 12 hex digits become a counter.
https_fhir_row() {
    local f=tests/data/fhir/bundle-ahc-panel-transaction.json marker
    grep -q '"/v1/fhir"' hub/*.c 2>/dev/null || { put built.https_fhir 0; return 0; }
    [ -f "$f" ] || return 0
    marker=$(sed -n 's/.*"value": *"urn:uuid:[0-9a-f-]*-\([0-9a-f]\{12\}\)".*/\1/p' "$f" | head -1)
    [ -n "$marker" ] || return 0
    https_doc_row fhir /v1/fhir application/fhir+json -b "$f" -m "$marker"
}

# The C-CDA documents that parse_bench normalizes (ccda_docs, from run.sh),
# in turn; each one's ClinicalDocument/id (its first <id/>, the key the hub
# is idempotent on) rewritten to carry a marker that becomes a counter.
https_ccda_row() {
    local f t args=() k=0
    grep -q '"/v1/ccda"' hub/*.c 2>/dev/null || { put built.https_ccda 0; return 0; }
    [ ${#ccda_docs[@]} -gt 0 ] || return 0
    mkdir -p "$out/ccda"
    for f in "${ccda_docs[@]}"; do
        k=$((k + 1))
        t=$out/ccda/doc$k.xml
        sed '0,/<id [^>]*\/>/s//<id root="2.16.840.1.113883.19.5.99999.1" extension="bench-BENCHDOCMARK00"\/>/' \
            "$f" >"$t"
        if grep -q BENCHDOCMARK00 "$t"; then
            args+=(-b "$t" -m BENCHDOCMARK00)
        else
            say "https: $f has no <id/> to make new, left out of POST /v1/ccda"
        fi
    done
    [ ${#args[@]} -gt 0 ] || return 0
    https_doc_row ccda /v1/ccda application/xml "${args[@]}"
}

# The screenings CSV layout as parse_bench normalizes it (its sample grown
# by copies), BENCH_CSV_COPIES copies (default 30, about 500 rows) per
# upload, each upload under a new file name; rows/s counts the rows the hub
# used ("used" in each answer), as parse_bench counts them. An upload is
# keyed by its bytes, not its name (F4080), so one more row, a copy of the
# first whose screening id is the marker, makes each upload new.
https_csv_row() {
    local src=tests/data/csv/screenings-simple.csv f=$out/csv/upload.csv
    grep -q '"/v1/csv/+"' hub/*.c 2>/dev/null || { put built.https_csv 0; return 0; }
    [ -f "$src" ] || return 0
    mkdir -p "$out/csv"
    csv_grow "$src" "${BENCH_CSV_COPIES:-30}" >"$f"
    sed -n '2s/^[^,]*,/S-BENCHCSVMARK00,/p' "$f" >>"$f"
    put https.csv.rows_per_file "$(( $(wc -l <"$f") - 1 ))"
    https_doc_row csv /v1/csv/screenings text/csv -b "$f" \
        -m BENCHCSVMARK00 -F bench-screenings -U used
}

if hubd_start; then
    put built.https 1
    # BENCH_ONLY="deliver": the delivery rows alone (their own backlog)
    if want hubd; then
        mllp_rows hubd "$hubd_mllp" "$hubd_pid" pg
        https_row
        https_fhir_row
        https_ccda_row
        https_csv_row
        idle_rss hubd "$hubd_mllp" "$hubd_pid"
    else
        # BENCH_ONLY="deliver": the ingest rows were left out, not failed
        for k in hubd https https_fhir https_ccda https_csv; do
            put "built.$k" skip
        done
    fi
    if [ "$dispatch_ok" = 1 ] && [ -n "${recv_port:-}" ] && add_cbo; then
        subscribe 1 && drain_rate 1
        subscribe 9 && drain_rate 10
    fi
fi
hubd_stop

# Phase 2, a fresh database and hubd as it runs in production (its own
# dispatcher, woken by its commits): ingest-to-delivery at 1,000 msg/s
# offered, one subscription.
HUB_DISPATCH=1
if [ "$dispatch_ok" = 1 ] && [ -n "${recv_port:-}" ] && hubd_start &&
   add_cbo && subscribe 1; then
    latency_at_rate
    # a hospital's bursts: an admit or registration and three updates of
    # the same patient at once, each delivered only after the one before
    latency_at_rate "$corpus_burst" burst
fi
hubd_stop
