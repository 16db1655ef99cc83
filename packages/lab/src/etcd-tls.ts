/**
 * TLS for the lab's etcd, made with the same script production uses
 * (deploy/etcd/make-certs.sh): a private CA, the server certificate of
 * 198.51.100.1, the controller's client certificate (CN=controller) and one
 * per agent (CN=agent-<host>). With client-cert-auth, etcd takes the user
 * from the CN, so under RBAC each process is who its certificate says.
 */
import { join } from 'node:path';
import { runCommand } from './command-runner.js';
import { UNDERLAY_CONTROL_ADDRESS } from './lab-layout.js';
import { programs } from './programs.js';

export const ETCD_NODE_NAME = 'etcd-1';

export interface LabPki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
}

/** A member's own certificate (server and peer; SAN = its name and address). */
export const memberCert = (pki: LabPki, name: string) => ({
  cert: join(pki.dir, `${name}.pem`),
  key: join(pki.dir, `${name}-key.pem`),
});

export const clientCert = (pki: LabPki, user: string) => ({
  cert: join(pki.dir, `${user}.pem`),
  key: join(pki.dir, `${user}-key.pem`),
});

/** The PKI of the lab's etcd: one server certificate per member (`name=address`; default the one at 198.51.100.1). */
export async function makeLabPki(
  dir: string,
  agentHosts: readonly string[],
  members: readonly { name: string; address: string }[] = [{ name: ETCD_NODE_NAME, address: UNDERLAY_CONTROL_ADDRESS }],
): Promise<LabPki> {
  const nodes = members.map((m) => `${m.name}=${m.address}`).join(',');
  await runCommand(['bash', programs.certScript, dir, nodes, ...agentHosts], { timeoutMs: 60_000 });
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    serverCert: join(dir, `${ETCD_NODE_NAME}.pem`),
    serverKey: join(dir, `${ETCD_NODE_NAME}-key.pem`),
  };
}

/** etcd server flags for TLS with client certificates. */
export function etcdTlsFlags(pki: LabPki): string[] {
  return [
    '--cert-file',
    pki.serverCert,
    '--key-file',
    pki.serverKey,
    '--trusted-ca-file',
    pki.ca,
    '--client-cert-auth',
  ];
}

/** etcdctl environment (the server's own certificate works as a client one before auth is on). */
export function etcdctlTlsEnv(pki: LabPki): Record<string, string> {
  return { ETCDCTL_CACERT: pki.ca, ETCDCTL_CERT: pki.serverCert, ETCDCTL_KEY: pki.serverKey };
}
