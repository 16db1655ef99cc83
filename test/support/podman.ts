/**
 * podman as root with vfs storage in a private directory (no shared image
 * store, nothing left behind), with the two settings this kind of machine
 * needs before crun will start a container:
 * - ulimits within the hard limits: the sandbox withholds CAP_SYS_RESOURCE,
 *   and podman's default container limits (RLIMIT_NOFILE 1048576, …) are
 *   above them, so crun's setrlimit fails with EPERM;
 * - a hybrid cgroup layout (v1 controllers plus a cgroup2 mount at
 *   /sys/fs/cgroup/unified with a controller enabled) is refused by crun
 *   ("cgroups in hybrid mode not supported"): podman then runs in a private
 *   mount namespace without that cgroup2 mount, with cgroups disabled.
 * On a host with a plain cgroup v2 hierarchy neither step changes anything.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run, type RunOptions, type RunResult } from './run-command.js';

const HYBRID_CGROUP2 = '/sys/fs/cgroup/unified';

function hybridCgroups(): boolean {
  const controllers = join(HYBRID_CGROUP2, 'cgroup.controllers');
  return existsSync(controllers) && readFileSync(controllers, 'utf8').trim() !== '';
}

/** Container limits: what podman would set, capped at this process's hard limits. */
export const CONTAINER_ULIMITS = ['--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096'];

export class Podman {
  private constructor(readonly dir: string) {}

  static async create(prefix: string): Promise<Podman> {
    return new Podman(await mkdtemp(join('/var/tmp', prefix)));
  }

  /** podman <args> on the private store; in a mount namespace without the hybrid cgroup2 mount when there is one. */
  podman(args: string[], options: RunOptions = {}): Promise<RunResult> {
    const argv = [
      'podman',
      '--root',
      join(this.dir, 'storage'),
      '--runroot',
      join(this.dir, 'run'),
      '--storage-driver',
      'vfs',
      '--cgroup-manager',
      'cgroupfs',
      ...args,
    ];
    if (!hybridCgroups()) return run(argv, { timeoutMs: 180_000, ...options });
    return run(['unshare', '--mount', 'sh', '-c', `umount ${HYBRID_CGROUP2} && exec "$@"`, 'sh', ...argv], {
      timeoutMs: 180_000,
      ...options,
    });
  }

  /** `podman run` options every container here gets (see the file comment). */
  static runOptions(): string[] {
    return ['--network', 'none', '--cgroups', 'disabled', ...CONTAINER_ULIMITS];
  }

  /** Removes every container and image of the store, and the store. */
  async destroy(): Promise<void> {
    await this.podman(['rm', '--all', '--force'], { allowFailure: true });
    await this.podman(['rmi', '--all', '--force'], { allowFailure: true });
    await rm(this.dir, { recursive: true, force: true });
  }
}
