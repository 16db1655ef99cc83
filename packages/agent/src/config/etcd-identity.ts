/**
 * The agent's etcd identity must be its own host's. Under dvs's RBAC
 * (deploy/etcd/dvs-rbac.sh) host <h> logs in as `agent-<h>`: by username, or
 * by a client certificate whose CN etcd takes as the user. An agent given
 * another host's identity would be refused every write of its own keys and
 * retry forever; this says so before anything starts. Names outside the
 * `agent-…` scheme are left alone (a site with its own RBAC naming).
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AgentConfig } from './agent-config.js';
import { ConfigError } from './config-error.js';

const AGENT_USER = /^agent-/;

/** The CN of a PEM certificate's subject, or null when it has none. */
export function certificateCommonName(pem: string | Buffer): string | null {
  const subject = new X509Certificate(pem).subject;
  for (const line of subject.split('\n')) if (line.startsWith('CN=')) return line.slice(3);
  return null;
}

export async function checkEtcdIdentity(config: AgentConfig): Promise<void> {
  if (config.etcd === null) return;
  const own = `agent-${config.host}`;
  const { username, certFile } = config.etcd.options as { username?: string; certFile?: string };
  if (username !== undefined && AGENT_USER.test(username) && username !== own) {
    throw new ConfigError(
      'etcd.username',
      `"${username}" is another host's etcd identity (this host is ${config.host})`,
      `log in as ${own} with this host's own password (deploy/etcd/dvs-rbac.sh made one per host)`,
    );
  }
  if (certFile === undefined) return;
  // A file that is not there (yet) is the etcd connection's to report when it is opened;
  // `--check` on a config written before its certificate stays valid.
  const pem = await readFile(certFile).catch(() => null);
  if (pem === null) return;
  let cn: string | null;
  try {
    cn = certificateCommonName(pem);
  } catch (err) {
    throw new ConfigError(
      'etcd.certFile',
      `${certFile} is not a PEM certificate (${(err as Error).message})`,
      `give this host's client certificate (CN=${own}, deploy/etcd/make-certs.sh)`,
    );
  }
  if (cn !== null && AGENT_USER.test(cn) && cn !== own) {
    throw new ConfigError(
      'etcd.certFile',
      `${certFile} is the certificate of CN=${cn}, another host's etcd identity (this host is ${config.host})`,
      `give this host's own certificate, CN=${own} (deploy/etcd/make-certs.sh; on Kubernetes, the node's /etc/dvs/etcd)`,
    );
  }
}
