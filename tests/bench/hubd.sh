# hubd.sh - the hubd rows of `make bench`, sourced by run.sh (which provides
# put, say, field, mllp_rows, idle_rss, pids, out, log, corpus, CONNS, SECS,
# IDLE and the running private PostgreSQL).
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
    local conf=$out/hubd.conf ports=$root/$out/hubd.ports i
    hub_url=$(deploy/devdb.sh createdb hub_bench 2>/dev/null | tail -1)
    DATABASE_URL=$hub_url build/hubctl migrate >"$log/hubctl.txt" 2>&1 ||
        { say "hubctl migrate failed (see $log/hubctl.txt)"; return 1; }
    DATABASE_URL=$hub_url build/hubctl org add "$hub_org" --name "Bench Hospital" \
        --kind hospital --scopes ingest,subscribe >>"$log/hubctl.txt" 2>&1 ||
        { say "hubctl org add failed (see $log/hubctl.txt)"; return 1; }
    cat >"$conf" <<CONF
# written by tests/bench/hubd.sh for one bench run
profile = dev
database_url = $hub_url
mllp_bind = 127.0.0.1
mllp_port = 0
mllp_org = $hub_org
mllps_port = -1
https_port = -1
http_port = 0
ports_file = $ports
max_connections = $(( IDLE + 1024 ))
idle_timeout = 3600
log_level = warn
CONF
    rm -f "$ports"
    build/hubd -c "$conf" >"$log/hubd.txt" 2>&1 &
    hubd_pid=$!
    pids+=("$hubd_pid")
    hubd_mllp="" hubd_http=""
    for i in $(seq 300); do
        if [ -s "$ports" ]; then
            hubd_mllp=$(sed -n 's/^mllp=//p' "$ports" | head -1)
            hubd_http=$(sed -n 's/^http=//p' "$ports" | head -1)
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
        for i in $(seq 100); do
            curl -fsS -o /dev/null "http://127.0.0.1:$hubd_http/readyz" && break
            sleep 0.1
        done
    fi
    return 0
}

hubd_stop() {
    [ -n "${hubd_pid:-}" ] || return 0
    kill "$hubd_pid" 2>/dev/null || true
    wait "$hubd_pid" 2>/dev/null || true
    hubd_pid=""
}

if hubd_start; then
    mllp_rows hubd "$hubd_mllp"
    idle_rss hubd "$hubd_mllp" "$hubd_pid"
    hubd_stop
fi
