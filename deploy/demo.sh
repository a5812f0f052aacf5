#!/usr/bin/env bash
# demo.sh - `make run`: a demo hub on this machine, in the foreground.
#   the private PostgreSQL (deploy/devdb.sh) unless DATABASE_URL is set,
#   migrations, development certificates (certs/mkcerts.sh var/certs),
#   one organization of each kind with a token and a bound client
#   certificate, var/demo/credentials.json, a short how-to, then hubd
#   until Ctrl-C (hubd shuts down cleanly on SIGINT).
# Idempotent: what exists is kept; a token is made again only when the one
# saved in var/demo/tokens/ is no longer live. Ports: the defaults, or
# HUB_MLLP_PORT, HUB_MLLPS_PORT, HUB_HTTPS_PORT, HUB_HTTP_PORT,
# HUB_DEMO_CLINIC_PORT (0: any free one; the bound ports are in the
# demo directory's `ports` file).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${HUB_BUILD:-build}
hubctl="$build/hubctl"
# where the demo's files go (tests/e2e/demo_test.c gives a directory of
# its own, so that a developer's `make run` is left alone)
demo=${HUB_DEMO_DIR:-var/demo}

mllp=${HUB_MLLP_PORT:-2575}
mllps=${HUB_MLLPS_PORT:-2576}
https=${HUB_HTTPS_PORT:-8443}
http=${HUB_HTTP_PORT:-8080}
clinic_port=${HUB_DEMO_CLINIC_PORT:-2577}

# a port someone else listens on: said now, with the variable that moves
# it, rather than after the how-to as hubd's mllp.bind_failed
for pv in "$mllp HUB_MLLP_PORT" "$clinic_port HUB_DEMO_CLINIC_PORT" \
          "$mllps HUB_MLLPS_PORT" "$https HUB_HTTPS_PORT" "$http HUB_HTTP_PORT"; do
    read -r port var <<<"$pv"
    if [ "$port" -gt 0 ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "demo: 127.0.0.1:$port is in use (another hubd, or make run" \
             "already running?): stop it, or move this one with" \
             "$var=<free port> (README, \"The two commands\")" >&2
        exit 1
    fi
done

# DATABASE_URL may name the private database itself (the README's tour
# exports it): start that one too, as after make db-stop
private=$(deploy/devdb.sh url)
if [ -z "${DATABASE_URL:-}" ] || [ "$DATABASE_URL" = "$private" ]; then
    deploy/devdb.sh start
    DATABASE_URL=$private
fi
export DATABASE_URL
# A migration edited since it was applied is not applied again (hubctl
# says so, store.migration_changed): the private demo database is then made
# anew, as after a pull that changed the schema it would lack what the
# binaries expect; someone else's database is only told about.
if ! said=$("$hubctl" migrate 2>&1 >/dev/null); then
    printf '%s\n' "$said" >&2
    exit 1
fi
if grep -q migration_changed <<<"$said"; then
    if [ "$DATABASE_URL" = "$private" ]; then
        echo "demo: the schema changed since the demo database was made:" \
             "making it anew (demo data only)" >&2
        deploy/devdb.sh createdb "${HUB_PG_DB:-hub}" >/dev/null
        "$hubctl" migrate >/dev/null
    else
        printf '%s\n' "$said" >&2
    fi
fi

# id kind scopes name [labels]
orgs=(
    "hospital|hospital|ingest,subscribe|Riverside General Hospital"
    "clinic|clinic|ingest,subscribe|Eastside Community Clinic"
    "foodbank|cbo|ingest,subscribe|County Food Bank|sdv"
    "housing|cbo|ingest,subscribe|Housing Help Agency|sdv"
    "plan|plan|ingest,subscribe,roster|Medicaid Health Plan"
    "state|state|subscribe,report|State Medicaid Agency"
    "operator|operator|admin,subscribe,report|Hub Operator"
)
ids=()
for o in "${orgs[@]}"; do ids+=("${o%%|*}"); done
certs/mkcerts.sh var/certs "${ids[@]}" >/dev/null

mkdir -p "$demo/tokens"
chmod 700 "$demo" "$demo/tokens"
known=$("$hubctl" org list)
live=$("$hubctl" token list)
bound=$("$hubctl" cert list)
for o in "${orgs[@]}"; do
    IFS='|' read -r id kind scopes name labels <<<"$o"
    if ! awk -F'\t' -v id="$id" '$1 == id {f = 1} END {exit !f}' <<<"$known"; then
        # labels: the sensitive data its subscriptions may opt in to (the
        # tour's screening discloses violence: sdv), an operator's grant
        "$hubctl" org add "$id" --name "$name" --kind "$kind" \
            --scopes "$scopes" --labels "$labels" >/dev/null
    fi
    # bound once and kept: a binding an operator revoked stays revoked
    fp=$(cat "var/certs/$id.fp")
    if ! awk -F'\t' -v fp="$fp" '$1 == fp {f = 1} END {exit !f}' <<<"$bound"; then
        "$hubctl" cert bind "$id" "$fp" >/dev/null
    fi
    tok="$demo/tokens/$id"
    prefix=$([ -s "$tok" ] && cut -d_ -f1-2 "$tok" || true)
    # live: listed without a revoked_at (the column the header names)
    if [ -z "$prefix" ] || ! awk -F'\t' -v p="$prefix" '
            NR == 1 { for (i = 1; i <= NF; i++) if ($i == "revoked_at") r = i }
            NR > 1 && $1 == p && ($r == "-" || $r == "") {f = 1}
            END {exit !f}' <<<"$live"; then
        "$hubctl" token create "$id" 2>/dev/null >"$tok"
        chmod 600 "$tok"
    fi
done

cat >"$demo/hubd.conf" <<EOF
# written by deploy/demo.sh; see deploy/hubd.conf.example
profile = dev
migrate_at_start = false
mllp_port = $mllp
mllp_org = hospital
mllp_listener = $clinic_port clinic
mllps_port = $mllps
https_port = $https
http_port = $http
tls_cert = $root/var/certs/server.crt
tls_key = $root/var/certs/server.key
tls_ca = $root/var/certs/ca.crt
ports_file = $(cd "$demo" && pwd)/ports
EOF

{
    printf '{\n  "database_url": "%s",\n' "$DATABASE_URL"
    printf '  "ports": {"mllp": %s, "mllp_clinic": %s, "mllps": %s, "https": %s, "http": %s},\n' \
        "$mllp" "$clinic_port" "$mllps" "$https" "$http"
    printf '  "ca": "%s/var/certs/ca.crt",\n  "organizations": {\n' "$root"
    n=0
    for id in "${ids[@]}"; do
        n=$((n + 1))
        sep=$([ $n -lt ${#ids[@]} ] && echo , || true)
        printf '    "%s": {"token": "%s", "cert": "%s/var/certs/%s.crt", "key": "%s/var/certs/%s.key", "fingerprint": "%s"}%s\n' \
            "$id" "$(cat "$demo/tokens/$id")" "$root" "$id" "$root" "$id" \
            "$(cat "var/certs/$id.fp")" "$sep"
    done
    printf '  }\n}\n'
} >"$demo/credentials.json"
chmod 600 "$demo/credentials.json"

# the private database's URL holds no password: show it for hubctl
hubctl_env="  hubctl      DATABASE_URL is in credentials.json"
[ "$DATABASE_URL" != "$private" ] ||
    hubctl_env="  hubctl      export DATABASE_URL='$DATABASE_URL'; $hubctl help"
sample=tests/data/hl7v2/ADT-A01-01.hl7
[ -f "$sample" ] || sample=$(ls tests/data/hl7v2/*.hl7 | head -1)
cat <<EOF

  Care hub demo (development profile)
  -----------------------------------
  MLLP        127.0.0.1:$mllp  (as "hospital"),  127.0.0.1:$clinic_port (as "clinic")
  MLLP/TLS    127.0.0.1:$mllps (client certificate names the org)
  HTTPS API   https://localhost:$https   plain HTTP http://127.0.0.1:$http
  Credentials $demo/credentials.json (tokens, certificates, DATABASE_URL)
$hubctl_env

  Send a sample ADT over MLLP and see the ACK:
    printf '\\x0b%s\\x1c\\x0d' "\$(tr '\\n' '\\r' < $sample)" | nc -q 3 127.0.0.1 $mllp | tr '\\r' '\\n'

  Read it back from the pull feed:
    curl -s --cacert var/certs/ca.crt -H "Authorization: Bearer \$(cat $demo/tokens/hospital)" https://localhost:$https/v1/events

  Or with the hospital's client certificate:
    curl -s --cacert var/certs/ca.crt --cert var/certs/hospital.crt --key var/certs/hospital.key https://localhost:$https/v1/events

  Health: curl -s http://127.0.0.1:$http/readyz    Metrics: curl -s http://127.0.0.1:$http/metrics
  Ctrl-C stops the hub (the database keeps running: make db-stop).

EOF
exec "$build/hubd" -c "$demo/hubd.conf"
