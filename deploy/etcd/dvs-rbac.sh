#!/usr/bin/env bash
# Creates dvs's etcd users and roles, then enables authentication.
#
#   ETCDCTL_ENDPOINTS=https://etcd-1:2379 ETCDCTL_CACERT=… ETCDCTL_CERT=… ETCDCTL_KEY=… \
#   DVS_ROOT_PASSWORD=… DVS_CONTROLLER_PASSWORD=… DVS_AGENT_PASSWORD=… \
#     deploy/etcd/dvs-rbac.sh host-a host-b host-c
#
# Layout (prefix P, default /dvs/v1/, override with DVS_PREFIX):
#   role dvs-controller  readwrite P                         (tables, networks, election)
#   role dvs-agent-read  read      P (whole prefix)          (watches networks/ fdb/ flood/ hosts/)
#   role dvs-agent-<h>   readwrite P hosts/<h>               (its host record, exact key)
#                        readwrite P ports/<h>/              (its ports)
#                        readwrite P status/<h>              (its tunnel health, exact key)
#                        readwrite P reports/                (MAC reports: see the note)
#   role dvs-readonly    read      P                         (operators, dashboards)
#   users: root (role root), controller, agent-<h> for each host, dvs-viewer.
#
# Note on reports/: the key is reports/<vni>/<mac>/<host>, so the host is not a
# key prefix and etcd (prefix ranges only) cannot confine an agent to its own
# reports; every agent may write reports/. The controller never trusts a report
# whose host has no live lease, which limits the harm; a layout with the host
# first (reports/<host>/…) would close the gap.
#
# With client certificates (--client-cert-auth) etcd takes the user name from
# the certificate's CN: issue agent certificates with CN=agent-<h> and the
# controller's with CN=controller (deploy/etcd/make-certs.sh does), and the
# passwords below are then only a fallback.
# Idempotent: existing users/roles are kept, permissions re-granted.
set -euo pipefail
P=${DVS_PREFIX:-/dvs/v1/}
ctl() { etcdctl "$@" >/dev/null; }
quiet() { etcdctl "$@" >/dev/null 2>&1 || true; }

export ETCDCTL_API=3
# Before auth is enabled nobody needs credentials; after (a re-run), root does.
if ! etcdctl user list >/dev/null 2>&1; then
  export ETCDCTL_USER="root:${DVS_ROOT_PASSWORD:?set DVS_ROOT_PASSWORD}"
fi

quiet user add root --new-user-password "${DVS_ROOT_PASSWORD:?set DVS_ROOT_PASSWORD}"
quiet user grant-role root root

quiet role add dvs-controller
ctl role grant-permission dvs-controller readwrite "$P" --prefix=true

quiet role add dvs-readonly
ctl role grant-permission dvs-readonly read "$P" --prefix=true

quiet role add dvs-agent-read
ctl role grant-permission dvs-agent-read read "$P" --prefix=true

quiet user add controller --new-user-password "${DVS_CONTROLLER_PASSWORD:?set DVS_CONTROLLER_PASSWORD}"
ctl user grant-role controller dvs-controller

quiet user add dvs-viewer --new-user-password "${DVS_VIEWER_PASSWORD:-${DVS_CONTROLLER_PASSWORD}}"
ctl user grant-role dvs-viewer dvs-readonly

for h in "$@"; do
  role="dvs-agent-$h"
  quiet role add "$role"
  ctl role grant-permission "$role" readwrite "${P}hosts/$h"
  ctl role grant-permission "$role" readwrite "${P}ports/$h/" --prefix=true
  ctl role grant-permission "$role" readwrite "${P}status/$h"
  ctl role grant-permission "$role" readwrite "${P}reports/" --prefix=true
  quiet user add "agent-$h" --new-user-password "${DVS_AGENT_PASSWORD:?set DVS_AGENT_PASSWORD}"
  ctl user grant-role "agent-$h" dvs-agent-read
  ctl user grant-role "agent-$h" "$role"
done

etcdctl auth enable >/dev/null 2>&1 || true
echo "dvs RBAC in place for: controller ${*/#/agent-}"
