import { execFileSync } from 'node:child_process';
import { enterNetworkNamespace } from '../netns.js';

/**
 * A throwaway network namespace for tests and benchmarks (`ip netns add`),
 * with IPv6 off so the kernel sends no ND/MLD chatter out of TAPs made in it.
 * `run(fn)` opens things inside it synchronously; `dispose()` deletes it (and
 * with it every device still in it). Name it with your prefix and something
 * unique (the pid).
 */
export class LabNamespace {
  private disposed = false;

  constructor(readonly name: string) {
    execFileSync('ip', ['netns', 'add', name]);
    try {
      execFileSync('ip', [
        'netns',
        'exec',
        name,
        'sysctl',
        '-qw',
        'net.ipv6.conf.all.disable_ipv6=1',
        'net.ipv6.conf.default.disable_ipv6=1',
      ]);
      execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  /** Runs `fn` with this thread inside the namespace; fds opened there stay there. */
  run<T>(fn: () => T): T {
    const restore = enterNetworkNamespace(this.name);
    try {
      return fn();
    } finally {
      restore();
    }
  }

  /** `ip -n <name> …`, for set-up the tests need (adding a veth, reading a link). */
  ip(...args: string[]): string {
    return execFileSync('ip', ['-n', this.name, ...args], { encoding: 'utf8' });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    execFileSync('ip', ['netns', 'del', this.name]);
  }
}
