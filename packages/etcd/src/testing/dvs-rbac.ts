/**
 * dvs's etcd identities on a test etcd, made by the script production uses
 * (deploy/etcd/dvs-rbac.sh): one user per host, the controller, a viewer,
 * then authentication on. Passwords land in `passwordDir` (one file per user).
 *
 *   const etcd = await EtcdServer.start();
 *   const rbac = await applyDvsRbac(etcd.endpoint, ['h1', 'h2'], { passwordDir, root: 'pw' });
 *   new Etcd3({ hosts: etcd.endpoint, auth: rbac.login('agent-h1') });
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** packages/etcd/dist/src/testing/ → the repository's deploy/etcd/dvs-rbac.sh. */
export const DVS_RBAC_SCRIPT = fileURLToPath(new URL('../../../../../deploy/etcd/dvs-rbac.sh', import.meta.url));

export interface DvsRbacRun {
  code: number | null;
  /** stdout and stderr together. */
  output: string;
}

/** Runs dvs-rbac.sh with `args` against `endpoint`; `env` adds to (and overrides) the environment. */
export function runDvsRbac(endpoint: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<DvsRbacRun> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [DVS_RBAC_SCRIPT, ...args],
      { env: { ...process.env, ETCDCTL_API: '3', ETCDCTL_ENDPOINTS: endpoint, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

export interface DvsRbac {
  /** etcd3 `auth` of a user the script made (`controller`, `dvs-viewer`, `agent-<h>`). */
  login(user: string): { username: string; password: string };
}

/** Makes every identity for `hosts` in password mode; throws with the script's output when it fails. */
export async function applyDvsRbac(
  endpoint: string,
  hosts: readonly string[],
  options: { passwordDir: string; root: string; env?: NodeJS.ProcessEnv },
): Promise<DvsRbac> {
  const run = await runDvsRbac(endpoint, [...hosts], {
    DVS_ROOT_PASSWORD: options.root,
    DVS_PASSWORD_DIR: options.passwordDir,
    ...options.env,
  });
  if (run.code !== 0) throw new Error(`dvs-rbac.sh exited ${run.code}:\n${run.output}`);
  return {
    login: (user) => ({
      username: user,
      password: readFileSync(join(options.passwordDir, `${user}.password`), 'utf8').trim(),
    }),
  };
}
