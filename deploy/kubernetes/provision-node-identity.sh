#!/usr/bin/env bash
# Gives each Kubernetes node its own etcd identity for the dvs-agent DaemonSet.
#
#   deploy/kubernetes/provision-node-identity.sh <pki dir> node-1 node-2 …         # bundles to copy
#   DVS_NODE_SSH=root deploy/kubernetes/provision-node-identity.sh <pki dir> node-1  # and copy them (ssh)
#
# A DaemonSet has one pod template, so it cannot mount a different Secret on
# each node; one shared Secret would let every node log in as every other.
# So the identity lives on the node, as the kubelet's own credentials do:
# /etc/dvs/etcd/{ca.pem,agent.pem,agent-key.pem}, a client certificate with
# CN=agent-<node> (the etcd user deploy/etcd/dvs-rbac.sh confines to that
# node's keys), mounted read-only by the DaemonSet (hostPath). The agent
# refuses to start with a certificate of another node (its log says which).
#
# For each node this issues agent-<node> in <pki dir> (deploy/etcd/make-certs.sh
# with the CA there; an existing certificate is kept), puts the three files
# in <pki dir>/nodes/<node>/, and with DVS_NODE_SSH=<user> copies them to
# <user>@<node>:/etc/dvs/etcd/ (directory 0700, key 0600). Without it, copy
# that directory to the node with what provisions your nodes (cloud-init,
# Ansible, …). Then: DVS_AUTH=cert deploy/etcd/dvs-rbac.sh node-1 node-2 …
set -euo pipefail
pki=${1:?usage: provision-node-identity.sh <pki dir> <node>…}; shift
[ $# -gt 0 ] || { echo "provision-node-identity.sh: name the nodes" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$pki/ca.pem" ] && [ -f "$pki/ca-key.pem" ] ||
  { echo "provision-node-identity.sh: no CA in $pki (make it with deploy/etcd/make-certs.sh)" >&2; exit 2; }
bash "$here/../etcd/make-certs.sh" "$pki" - "$@" >/dev/null
for node in "$@"; do
  dir="$pki/nodes/$node"
  mkdir -p -m 0700 "$dir"
  install -m 0644 "$pki/ca.pem" "$dir/ca.pem"
  install -m 0644 "$pki/agent-$node.pem" "$dir/agent.pem"
  install -m 0600 "$pki/agent-$node-key.pem" "$dir/agent-key.pem"
  if [ -n "${DVS_NODE_SSH:-}" ]; then
    ssh "$DVS_NODE_SSH@$node" 'install -d -m 0700 /etc/dvs/etcd'
    scp -p "$dir/ca.pem" "$dir/agent.pem" "$dir/agent-key.pem" "$DVS_NODE_SSH@$node:/etc/dvs/etcd/"
    echo "$node: identity agent-$node installed in /etc/dvs/etcd"
  else
    echo "$node: identity agent-$node in $dir (copy to $node:/etc/dvs/etcd/, key mode 0600)"
  fi
done
