/**
 * Where the lab finds the other dvs programs: the built entry points of the
 * monorepo it is part of (packages/lab/dist/src/… → repository root).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

export const programs = {
  agent: join(REPO_ROOT, 'packages/agent/dist/src/main.js'),
  controller: join(REPO_ROOT, 'packages/controller/dist/src/main.js'),
  cli: join(REPO_ROOT, 'packages/cli/dist/src/main.js'),
  /** The agent's etcd sync (loaded by the agent when its config has `etcd:`). */
  agentEtcdSync: join(REPO_ROOT, 'packages/agent/dist/src/etcd-sync/index.js'),
  forwarder: join(REPO_ROOT, 'packages/lab/dist/src/unix-forwarder.js'),
  /** The agent's TAP and socket I/O (node-gyp build of packages/netdev). */
  netdevAddon: join(REPO_ROOT, 'packages/netdev/build/Release/dvs_netdev.node'),
  /** etcd users and roles for dvs (the same script production uses). */
  rbacScript: join(REPO_ROOT, 'deploy/etcd/dvs-rbac.sh'),
  /** CA and certificates for etcd, controller and agents. */
  certScript: join(REPO_ROOT, 'deploy/etcd/make-certs.sh'),
  /** CA and certificates for the controller's HTTP API. */
  apiCertScript: join(REPO_ROOT, 'deploy/api/make-api-certs.sh'),
};

export function isBuilt(program: keyof typeof programs): boolean {
  return existsSync(programs[program]);
}
