#!/usr/bin/env bash
# devdb.sh - the private PostgreSQL of the development profile and the tests.
#   devdb.sh start   initdb on first use, start on a unix socket in var/pg/run
#                    and on 127.0.0.1:$HUB_PG_PORT, create database $HUB_PG_DB
#   devdb.sh stop    fast shutdown
#   devdb.sh url     print the DATABASE_URL to use
#   devdb.sh createdb NAME / dropdb NAME
# PostgreSQL refuses to run as root, so the server runs as the postgres user.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
var=${HUB_VAR:-$root/var}
port=${HUB_PG_PORT:-54329}
db=${HUB_PG_DB:-hub}
bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
data=$var/pg/data
sock=$var/pg/run
log=$var/pg/server.log

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() { echo "postgresql://postgres@127.0.0.1:$port/${1:-$db}?host=$sock"; }

running() { as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

case "${1:-}" in
start)
    mkdir -p "$var/pg"
    if [ "$(id -u)" = 0 ]; then chown postgres "$var/pg"; fi
    if [ ! -s "$data/PG_VERSION" ]; then
        as_pg "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 \
            --locale=C.UTF-8 >"$var/pg/initdb.log" 2>&1 ||
            { cat "$var/pg/initdb.log" >&2; exit 1; }
        cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
max_connections = 200
shared_buffers = 256MB
wal_buffers = 16MB
# as deploy/postgresql.md advises: at the default 1GB a busy hub (make
# bench) forced a checkpoint every 30-60 s, each followed by full-page writes
max_wal_size = 4GB
commit_delay = 0
log_min_messages = warning
CONF
    fi
    as_pg mkdir -p "$sock"
    if ! running; then
        # port and socket on the command line: HUB_PG_PORT may change
        # between runs of the same data directory
        as_pg "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
            -o "-p $port -k $sock" start >/dev/null ||
            { tail -20 "$log" >&2; exit 1; }
    fi
    as_pg "$bin/psql" -h "$sock" -p "$port" -U postgres -d postgres -qAt \
        -c "select 1 from pg_database where datname='$db'" | grep -q 1 ||
        as_pg "$bin/createdb" -h "$sock" -p "$port" -U postgres "$db"
    ;;
stop)
    if [ -s "$data/PG_VERSION" ] && running; then
        as_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    fi
    ;;
url) url "${2:-}" ;;
createdb)
    as_pg "$bin/dropdb" -h "$sock" -p "$port" -U postgres --if-exists -f "$2"
    as_pg "$bin/createdb" -h "$sock" -p "$port" -U postgres "$2"
    url "$2"
    ;;
dropdb)
    as_pg "$bin/dropdb" -h "$sock" -p "$port" -U postgres --if-exists -f "$2" ;;
*)
    echo "usage: $0 start|stop|url|createdb NAME|dropdb NAME" >&2; exit 2 ;;
esac
