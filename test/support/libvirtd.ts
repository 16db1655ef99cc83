/**
 * A private, real libvirtd for a test, running on one lab host the way it runs
 * on a hypervisor host: in the host's network namespace (the TAPs it creates
 * for its domains are that host's), in a mount namespace of its own in which
 * a temporary folder is bound over /etc/libvirt, /run/libvirt,
 * /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt — so neither the
 * machine's libvirt nor another test's is touched — and over /etc/dvs and
 * /run/dvs, laid out as deploy/qemu/README.md installs dvs's hooks:
 * /etc/dvs/dvs-ifup (…-ifdown, …-admin-call) linked to deploy/qemu,
 * /etc/dvs/ports/<tap> with the TAP's VNI, /run/dvs/agent.sock the host
 * agent's admin socket, and /etc/libvirt/hooks/qemu the dvs-libvirt-hook.
 *
 * Settings for a machine without systemd, D-Bus or KVM: no cgroups, QEMU's
 * output to files (no virtlogd), no security driver, domains of type 'qemu'
 * (TCG). `virsh` reaches it at `qemu:///system?socket=<folder>/run/libvirt-sock`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor } from '@dvs/test-support';

const DEPLOY_QEMU = resolve('deploy/qemu');

const QEMU_CONF = `# A libvirtd without systemd, cgroup delegation, virtlogd or an LSM.
cgroup_controllers = [ ]
stdio_handler = "file"
security_driver = "none"
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
namespaces = [ ]
`;

export class PrivateLibvirtd {
  private constructor(
    readonly dir: string,
    private readonly child: ChildProcess,
  ) {}

  get uri(): string {
    return `qemu:///system?socket=${join(this.dir, 'run', 'libvirt-sock')}`;
  }

  /** The libvirtd log (errors and the hooks' runs). */
  get logFile(): string {
    return join(this.dir, 'libvirtd.log');
  }

  /**
   * Starts libvirtd in `netns`; `agentSocket` becomes /run/dvs/agent.sock and
   * each of `ports` ({tap: vni}) a /etc/dvs/ports/<tap> file.
   */
  static async start(netns: string, agentSocket: string, ports: Record<string, number>): Promise<PrivateLibvirtd> {
    const dir = await mkdtemp(join(tmpdir(), 'dvs-libvirtd-'));
    const sub = (name: string) => join(dir, name);
    for (const name of ['etc', 'run', 'lib', 'log', 'cache', 'dvs-etc/ports', 'dvs-run'])
      await mkdir(sub(name), { recursive: true });
    // Nothing of the machine's /etc/libvirt (no autostarted network or domain): only what is written here.
    await mkdir(sub('etc/hooks'));
    await writeFile(sub('etc/qemu.conf'), QEMU_CONF);
    await writeFile(
      sub('etc/libvirtd.conf'),
      `unix_sock_dir = "/run/libvirt"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n` +
        `log_filters = "1:util.hook 1:util.command 3:*"\nlog_outputs = "1:file:${sub('libvirtd.log')}"\n`,
    );
    await symlink(join(DEPLOY_QEMU, 'dvs-libvirt-hook'), sub('etc/hooks/qemu'));
    for (const script of ['dvs-ifup', 'dvs-ifdown', 'dvs-admin-call'])
      await symlink(join(DEPLOY_QEMU, script), sub(`dvs-etc/${script}`));
    for (const [tap, vni] of Object.entries(ports)) await writeFile(sub(`dvs-etc/ports/${tap}`), `${vni}\n`);
    await symlink(agentSocket, sub('dvs-run/agent.sock'));
    const binds = [
      ['etc', '/etc/libvirt'],
      ['run', '/run/libvirt'],
      ['lib', '/var/lib/libvirt'],
      ['log', '/var/log/libvirt'],
      ['cache', '/var/cache/libvirt'],
      ['dvs-etc', '/etc/dvs'],
      ['dvs-run', '/run/dvs'],
    ];
    const script = [
      'set -e',
      ...binds.map(([from, to]) => `mkdir -p ${to} && mount --bind ${sub(from)} ${to}`),
      'exec libvirtd',
    ].join('\n');
    const child = spawn(
      'ip',
      ['netns', 'exec', netns, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', script],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const daemon = new PrivateLibvirtd(dir, child);
    try {
      const state = await waitFor(
        `libvirtd answering on ${daemon.uri}`,
        () => (child.exitCode !== null ? 'exited' : daemon.virsh(['version']).status === 0 ? 'up' : false),
        30_000,
        200,
      );
      if (state === 'exited') throw new Error(`libvirtd exited (${child.exitCode}): ${stderr}`);
    } catch (err) {
      await daemon.stop();
      throw err;
    }
    return daemon;
  }

  virsh(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('virsh', ['-c', this.uri, ...args], { encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** Destroys every running domain, stops libvirtd (its pid: `ip netns exec` and unshare exec in place) and removes the folder. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const list = this.virsh(['list', '--name']);
      for (const name of list.stdout.split('\n').filter(Boolean)) this.virsh(['destroy', name]);
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
