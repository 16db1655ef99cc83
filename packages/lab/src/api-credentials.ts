/**
 * The lab's controller API runs the secure way, as production should
 * (docs/security.md): HTTPS with a server certificate from
 * deploy/api/make-api-certs.sh, and bearer tokens for an admin (the lab
 * itself, the demo's dvs views) and a viewer. Everything lives in the lab's
 * folder, mode 0600, and goes away with it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ControllerClient } from '@dvs/cli';
import { runCommand } from './command-runner.js';
import { UNDERLAY_CONTROL_ADDRESS } from './lab-layout.js';
import type { LabState } from './lab-state.js';
import { programs } from './programs.js';

export interface LabApiCredentials {
  /** CA that signed the controller's API certificate. */
  ca: string;
  serverCert: string;
  serverKey: string;
  /** The controller's --api-tokens file. */
  tokensFile: string;
  /** One token per file, for `dvs --token-file`. */
  adminTokenFile: string;
  viewerTokenFile: string;
}

export async function makeLabApiCredentials(dir: string): Promise<LabApiCredentials> {
  await runCommand(['bash', programs.apiCertScript, dir, UNDERLAY_CONTROL_ADDRESS], { timeoutMs: 60_000 });
  const admin = randomBytes(32).toString('hex');
  const viewer = randomBytes(32).toString('hex');
  const creds: LabApiCredentials = {
    ca: join(dir, 'api-ca.pem'),
    serverCert: join(dir, 'controller-api.pem'),
    serverKey: join(dir, 'controller-api-key.pem'),
    tokensFile: join(dir, 'api-tokens'),
    adminTokenFile: join(dir, 'admin.token'),
    viewerTokenFile: join(dir, 'viewer.token'),
  };
  await writeFile(creds.tokensFile, `# name role token\nlab admin ${admin}\nlab-viewer viewer ${viewer}\n`, {
    mode: 0o600,
  });
  await writeFile(creds.adminTokenFile, `${admin}\n`, { mode: 0o600 });
  await writeFile(creds.viewerTokenFile, `${viewer}\n`, { mode: 0o600 });
  return creds;
}

/** The controller's flags for these credentials. */
export function controllerApiFlags(creds: LabApiCredentials): string[] {
  return ['--tls-cert', creds.serverCert, '--tls-key', creds.serverKey, '--api-tokens', creds.tokensFile];
}

/**
 * A client of the lab's controller as the lab's admin, through the unix
 * socket forwarder into the underlay namespace (TLS runs end to end through it).
 */
export function labControllerClient(state: LabState, options: { token?: 'admin' | 'viewer' } = {}): ControllerClient {
  const c = state.controller;
  if (c?.socketPath === undefined) throw new Error('this lab has no controller');
  const api = c.api;
  return new ControllerClient(c.url, {
    socketPath: c.socketPath,
    ...(api
      ? {
          ca: readFileSync(api.ca),
          token: readFileSync(options.token === 'viewer' ? api.viewerTokenFile : api.adminTokenFile, 'utf8').trim(),
        }
      : {}),
  });
}
