#!/usr/bin/env bash
# Creates dvs's etcd identities and roles, then enables authentication.
# One identity per host: each agent may write only its own keys.
#
#   ETCDCTL_ENDPOINTS=https://etcd-1:2379 ETCDCTL_CACERT=… ETCDCTL_CERT=… ETCDCTL_KEY=… \
#   DVS_ROOT_PASSWORD=… DVS_PASSWORD_DIR=/root/dvs-etcd-passwords \
#     deploy/etcd/dvs-rbac.sh host-a host-b host-c      # add or refresh these hosts
#   … deploy/etcd/dvs-rbac.sh --remove host-c            # a host leaves: its identity goes
#
# Layout (prefix P, default /dvs/v1/, override with DVS_PREFIX):
#   role dvs-controller  readwrite P                         (tables, networks, election, layout)
#   role dvs-agent-read  read      [P fdb/, P networks0)     (what agents watch: fdb/ flood/ flow-export/ hosts/ layout limits/ mirrors/ networks/)
#   role dvs-agent-<h>   readwrite P hosts/<h>               (its host record, exact key)
#                        readwrite P ports/<h>/              (its ports)
#                        readwrite P reports/<h>/            (its MAC reports)
#                        readwrite P status/<h>              (its tunnel health, exact key)
#                        readwrite P digests/<h>             (its table digests for dvs audit, exact key)
#                        read      P resync/<h>              (resyncs the controller asks of it, exact key)
#   role dvs-readonly    read      P                         (operators, dashboards)
#   users: root (role root), controller, dvs-viewer, agent-<h> for each host.
# etcd grants key prefixes, and every key a host writes starts with its own
# name (key layout 2), so agent-<h> cannot touch another host's records. The
# controller checks the rest (lease, VNI membership, seq jumps: docs/security.md).
#
# Credentials, DVS_AUTH=password (default) or cert:
#   password  each identity gets its own password, in DVS_PASSWORD_DIR/<user>.password
#             (mode 0600): kept when the file exists, made (openssl rand) when not. Copy
#             agent-<h>.password to host <h> only. DVS_CONTROLLER_PASSWORD and
#             DVS_VIEWER_PASSWORD, when set, are used instead of the files.
#   cert      users without a password: only a client certificate whose CN is the user
#             name logs in (etcd --client-cert-auth; deploy/etcd/make-certs.sh issues
#             agent-<h>, controller). Nothing to leak but each host's own key.
# One password shared by all agents (the old DVS_AGENT_PASSWORD) is refused: any
# host knowing it could log in as every other.
#
# Idempotent: existing users and roles are kept, permissions re-granted, and the
# broader grants of earlier versions of this script (reports/ for every agent,
# the whole prefix readable by agents) revoked.
set -euo pipefail
P=${DVS_PREFIX:-/dvs/v1/}
AUTH=${DVS_AUTH:-password}
ctl() { etcdctl "$@" >/dev/null; }
quiet() { etcdctl "$@" >/dev/null 2>&1 || true; }
die() { echo "dvs-rbac.sh: $*" >&2; exit 2; }

remove=false
if [ "${1:-}" = "--remove" ]; then remove=true; shift; fi
[ $# -gt 0 ] || die "name the hosts: dvs-rbac.sh host-a host-b … (or --remove host-a …)"
for h in "$@"; do
  [[ $h =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ ]] || die "\"$h\" is not a host id (letters, digits, . _ -)"
done
[ -z "${DVS_AGENT_PASSWORD:-}" ] ||
  die "DVS_AGENT_PASSWORD (one password for every agent) is no longer supported: give DVS_PASSWORD_DIR (one password per host) or DVS_AUTH=cert"
case $AUTH in
  password) [ -n "${DVS_PASSWORD_DIR:-}" ] || die "set DVS_PASSWORD_DIR: each identity's password is kept there (or DVS_AUTH=cert)" ;;
  cert) ;;
  *) die "DVS_AUTH must be password or cert (got \"$AUTH\")" ;;
esac

export ETCDCTL_API=3
# Before auth is enabled nobody needs credentials; after (a re-run), root does.
if ! etcdctl user list >/dev/null 2>&1; then
  export ETCDCTL_USER="root:${DVS_ROOT_PASSWORD:?set DVS_ROOT_PASSWORD}"
fi

# Creates <user>; in password mode its password is $2 when given, else the one in its file
# in DVS_PASSWORD_DIR (made when missing). An existing user's password is set again only when
# it was given or its file is new, so a re-run does not log out running agents.
ensure_user() {
  local user=$1 given=${2:-} file fresh=false
  if [ "$AUTH" = cert ]; then
    quiet user add "$user" --no-password
    return
  fi
  file="$DVS_PASSWORD_DIR/$user.password"
  if [ -z "$given" ] && [ ! -s "$file" ]; then
    mkdir -p -m 0700 "$DVS_PASSWORD_DIR"
    (umask 077 && openssl rand -hex 24 | tr -d '\n' >"$file")
    fresh=true
  fi
  local pw=$given
  [ -n "$pw" ] || pw=$(cat "$file")
  if ! etcdctl user get "$user" >/dev/null 2>&1; then
    printf '%s\n' "$pw" | ctl user add "$user" --interactive=false
  elif [ -n "$given" ] || $fresh; then
    printf '%s\n' "$pw" | ctl user passwd "$user" --interactive=false
  fi
}

if $remove; then
  for h in "$@"; do
    quiet user delete "agent-$h"
    quiet role delete "dvs-agent-$h"
    [ "$AUTH" != password ] || rm -f "$DVS_PASSWORD_DIR/agent-$h.password"
  done
  echo "dvs RBAC: removed ${*/#/agent-}"
  exit 0
fi

etcdctl user get root >/dev/null 2>&1 ||
  printf '%s\n' "${DVS_ROOT_PASSWORD:?set DVS_ROOT_PASSWORD}" | ctl user add root --interactive=false
quiet user grant-role root root

quiet role add dvs-controller
ctl role grant-permission dvs-controller readwrite "$P" --prefix=true

quiet role add dvs-readonly
ctl role grant-permission dvs-readonly read "$P" --prefix=true

quiet role add dvs-agent-read
quiet role revoke-permission dvs-agent-read "$P" --prefix=true
ctl role grant-permission dvs-agent-read read "${P}fdb/" "${P}networks0"

ensure_user controller "${DVS_CONTROLLER_PASSWORD:-}"
ctl user grant-role controller dvs-controller

ensure_user dvs-viewer "${DVS_VIEWER_PASSWORD:-}"
ctl user grant-role dvs-viewer dvs-readonly

for h in "$@"; do
  role="dvs-agent-$h"
  quiet role add "$role"
  quiet role revoke-permission "$role" "${P}reports/" --prefix=true
  ctl role grant-permission "$role" readwrite "${P}hosts/$h"
  ctl role grant-permission "$role" readwrite "${P}ports/$h/" --prefix=true
  ctl role grant-permission "$role" readwrite "${P}reports/$h/" --prefix=true
  ctl role grant-permission "$role" readwrite "${P}status/$h"
  ctl role grant-permission "$role" readwrite "${P}digests/$h"
  ctl role grant-permission "$role" read "${P}resync/$h"
  ensure_user "agent-$h"
  ctl user grant-role "agent-$h" dvs-agent-read
  ctl user grant-role "agent-$h" "$role"
done

etcdctl auth enable >/dev/null 2>&1 || true
if [ "$AUTH" = password ]; then
  echo "dvs RBAC in place for: controller ${*/#/agent-}; passwords in $DVS_PASSWORD_DIR/<user>.password (copy agent-<h>.password to host <h> only)"
else
  echo "dvs RBAC in place for: controller ${*/#/agent-}; log in with client certificates (CN = user)"
fi
