#!/usr/bin/env bash
# A private CA for the dvs-controller HTTP API, the controller's server
# certificate, and client certificates for operators and tools, with openssl.
#
#   deploy/api/make-api-certs.sh <out dir> <controller names and IPs> [client CN …]
#   deploy/api/make-api-certs.sh /etc/dvs/pki "ctl.example.net,10.0.0.5" ops-alice ci-bot
#
# Files: api-ca.pem api-ca-key.pem (keep the key offline), controller-api.pem
# and controller-api-key.pem (serverAuth; SAN = every name and IP given, plus
# localhost and 127.0.0.1), and <cn>.pem/<cn>-key.pem per client (clientAuth,
# CN=<cn>). Map each client to a role in the controller's --api-cert-roles
# file ("CN=ops-alice operator"). Re-running keeps the CA and reissues the rest.
set -euo pipefail
out=${1:?out dir}; names=${2:?controller names/IPs, comma-separated}; shift 2
mkdir -p "$out"; cd "$out"
days=825
[ -f api-ca.pem ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
  -keyout api-ca-key.pem -out api-ca.pem -subj "/CN=dvs API CA" 2>/dev/null
chmod 600 api-ca-key.pem

issue() { # file cn ext
  local name=$1 cn=$2 ext=$3
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$name-key.pem" -out "$name.csr" -subj "/CN=$cn" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA api-ca.pem -CAkey api-ca-key.pem -CAcreateserial -days $days -out "$name.pem" -extfile <(printf '%s' "$ext") 2>/dev/null
  rm -f "$name.csr"
  chmod 600 "$name-key.pem"
}

san="DNS:localhost,IP:127.0.0.1"
first=""
IFS=, read -ra list <<<"$names"
for n in "${list[@]}"; do
  [ -n "$first" ] || first=$n
  if [[ $n =~ ^[0-9.]+$ || $n == *:* ]]; then san="$san,IP:$n"; else san="$san,DNS:$n"; fi
done
issue controller-api "${first:-dvs-controller}" "subjectAltName=$san
extendedKeyUsage=serverAuth"
for cn in "$@"; do issue "$cn" "$cn" "extendedKeyUsage=clientAuth"; done
echo "API certificates in $out"
