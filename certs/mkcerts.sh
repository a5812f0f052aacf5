#!/usr/bin/env bash
# mkcerts.sh DIR [ORG...] - development certificates, made with the openssl
# CLI: a CA (ca.crt/ca.key), a server certificate for localhost, 127.0.0.1
# and ::1 (server.crt/server.key), and one client certificate per partner
# organization (<org>.crt/<org>.key, CN = the org id), signed by the CA.
# Prints each client certificate's SHA-256 fingerprint (of the DER, lower
# case hex) to <org>.fp, the form `hubctl cert bind` and hubd use.
# Idempotent: what exists is kept. For development only: keys live in DIR
# (var/ in the repository, which git ignores); never commit them.
set -euo pipefail
dir=${1:?usage: mkcerts.sh DIR [ORG...]}
shift
orgs=("$@")
[ ${#orgs[@]} -gt 0 ] || orgs=(hospital clinic foodbank housing plan state operator)
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
days=825

if [ ! -s ca.crt ] || [ ! -s ca.key ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
        -nodes -keyout ca.key -out ca.crt -days 3650 -sha256 \
        -subj "/O=Care Hub Development/CN=Care Hub Dev CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    chmod 600 ca.key
    rm -f server.crt          # a new CA invalidates what the old one signed
    for f in *.fp; do [ -e "$f" ] && rm -f "${f%.fp}.crt"; done
fi

sign() {   # $1 = name, $2 = subject, $3 = extensions file
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
    openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key \
        -CAcreateserial -out "$1.crt" -days $days -sha256 \
        -extfile "$3" 2>/dev/null
    chmod 600 "$1.key"
    rm -f "$1.csr"
}

if [ ! -s server.crt ] || [ ! -s server.key ]; then
    cat > server.ext <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
EXT
    sign server "/O=Care Hub Development/CN=localhost" server.ext
    rm -f server.ext
fi

for org in "${orgs[@]}"; do
    if [ ! -s "$org.crt" ] || [ ! -s "$org.key" ]; then
        cat > client.ext <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
EXT
        sign "$org" "/O=Care Hub Development/OU=partner/CN=$org" client.ext
        rm -f client.ext
    fi
    openssl x509 -in "$org.crt" -outform DER |
        openssl dgst -sha256 -r | cut -d' ' -f1 > "$org.fp"
done
echo "certs: $(pwd) (ca.crt, server.crt, ${orgs[*]})"
