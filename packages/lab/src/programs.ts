/**
 * The dvs programs the lab runs, found through their packages, not by path:
 * each package declares its programs in its package.json `bin`, and the lab
 * declares the packages as dependencies. The netdev addon is asked through
 * @dvs/netdev (nativeAvailable). The etcd set-up scripts are the ones
 * production uses, in the repository's deploy/ folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeAvailable } from '@dvs/netdev';

/** The repository the lab runs from (packages/lab/dist/src/… → root): its deploy/ scripts, results/. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

const require = createRequire(import.meta.url);

interface Manifest {
  name: string;
  version: string;
  bin?: Record<string, string>;
}

function manifestOf(pkg: string): { dir: string; manifest: Manifest } {
  const path = require.resolve(`${pkg}/package.json`);
  return { dir: dirname(path), manifest: JSON.parse(readFileSync(path, 'utf8')) as Manifest };
}

/** The file a package declares for one of its programs (package.json `bin`). */
function programOf(pkg: string, name: string): string {
  const { dir, manifest } = manifestOf(pkg);
  const file = manifest.bin?.[name];
  if (file === undefined) throw new Error(`${pkg} declares no program ${name} (package.json bin)`);
  return join(dir, file);
}

/** "@dvs/agent 0.1.0" for a package the lab depends on. */
export function packageVersion(pkg: string): string {
  const { manifest } = manifestOf(pkg);
  return `${manifest.name} ${manifest.version}`;
}

export const programs = {
  agent: programOf('@dvs/agent', 'dvs-agent'),
  controller: programOf('@dvs/controller', 'dvs-controller'),
  cli: programOf('@dvs/cli', 'dvs'),
  forwarder: fileURLToPath(new URL('./unix-forwarder.js', import.meta.url)),
  /** etcd users and roles for dvs (the same script production uses). */
  rbacScript: join(REPO_ROOT, 'deploy/etcd/dvs-rbac.sh'),
  /** CA and certificates for etcd, controller and agents. */
  certScript: join(REPO_ROOT, 'deploy/etcd/make-certs.sh'),
  /** CA and certificates for the controller's HTTP API. */
  apiCertScript: join(REPO_ROOT, 'deploy/api/make-api-certs.sh'),
};

/** Whether a program's package is built (its declared file exists). */
export function isBuilt(program: 'agent' | 'controller' | 'cli'): boolean {
  return existsSync(programs[program]);
}

/** Whether the agent can open TAPs and native sockets: the netdev addon loads. */
export function netdevAddonBuilt(): boolean {
  return nativeAvailable();
}
