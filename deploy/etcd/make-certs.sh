#!/usr/bin/env bash
# A private CA and the certificates of a 3-node etcd cluster, the controller
# and one client certificate per agent (CN = etcd user name), with openssl.
#
#   deploy/etcd/make-certs.sh <out dir> "etcd-1=10.0.0.1,etcd-2=10.0.0.2,etcd-3=10.0.0.3" host-a host-b …
#   deploy/etcd/make-certs.sh <out dir> - host-d          # later: one more host, nothing else
#
# Files: ca.pem ca-key.pem, <node>.pem/<node>-key.pem (server+peer, SAN = name
# and IP), controller.pem/-key.pem (CN=controller), agent-<h>.pem/-key.pem
# (CN=agent-<h>). A certificate that exists is kept (delete it to re-issue),
# so the script adds hosts to a PKI without touching the others. Keep
# ca-key.pem offline.
set -euo pipefail
out=${1:?out dir}; nodes=${2:?node list name=ip,…}; shift 2
mkdir -p "$out"; cd "$out"
days=825
[ -f ca.pem ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
  -keyout ca-key.pem -out ca.pem -subj "/CN=dvs etcd CA" 2>/dev/null

issue() { # name cn ext
  local name=$1 cn=$2 ext=$3
  [ ! -f "$name.pem" ] || return 0
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$name-key.pem" -out "$name.csr" -subj "/CN=$cn" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days $days -out "$name.pem" -extfile <(printf '%s' "$ext") 2>/dev/null
  rm -f "$name.csr"
  chmod 600 "$name-key.pem"
}

pairs=()
[ "$nodes" = - ] || IFS=, read -ra pairs <<<"$nodes"
for pair in "${pairs[@]}"; do
  name=${pair%%=*}; ip=${pair#*=}
  issue "$name" "$name" "subjectAltName=DNS:$name,IP:$ip,IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth"
done
issue controller controller "extendedKeyUsage=clientAuth"
for h in "$@"; do issue "agent-$h" "agent-$h" "extendedKeyUsage=clientAuth"; done
echo "certificates in $out"
