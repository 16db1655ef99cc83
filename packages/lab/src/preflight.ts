/**
 * Refuses to build a lab that cannot work, saying why: not root, a missing
 * program, or a kernel feature the lab needs (netns, veth, bridge, vxlan, tun).
 * Kernel features are probed by creating each kind of device in a throwaway
 * namespace: that is the only test that matches what the lab will do.
 */
import { access, constants } from 'node:fs/promises';
import { runCommand } from './command-runner.js';
import { LabError } from './errors.js';
import { devicePrefix, namespaceName } from './lab-layout.js';

export interface PreflightOptions {
  labId: string;
  /** Programs that must be installed, besides ip. */
  tools?: string[];
}

export async function checkRoot(): Promise<void> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new LabError(
      'DVS_LAB_NOT_ROOT',
      'the lab needs root (it creates network namespaces, TAP and vxlan devices): run it with sudo or as root',
    );
  }
}

async function which(tool: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    try {
      await access(`${dir}/${tool}`, constants.X_OK);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}

export async function checkTools(tools: readonly string[]): Promise<void> {
  const missing: string[] = [];
  for (const t of tools) if (!(await which(t))) missing.push(t);
  if (missing.length > 0) {
    throw new LabError(
      'DVS_LAB_TOOL_MISSING',
      `missing programs: ${missing.join(', ')} (run scripts/bootstrap.sh, or apt-get install iproute2 iputils-ping etcd-server)`,
    );
  }
}

export async function checkKernelFeatures(labId: string): Promise<void> {
  const ns = namespaceName(labId, 'probe');
  const dev = devicePrefix(labId) + 'pb';
  await runCommand(['ip', 'netns', 'del', ns], { allowFailure: true });
  const added = await runCommand(['ip', 'netns', 'add', ns], { allowFailure: true });
  if (added.code !== 0) {
    throw new LabError('DVS_LAB_KERNEL_FEATURE', `network namespaces unavailable (netns): ${added.stderr.trim()}`);
  }
  const missing: string[] = [];
  try {
    const probes: Array<[string, string[]]> = [
      ['veth', ['link', 'add', `${dev}a`, 'type', 'veth', 'peer', 'name', `${dev}b`]],
      ['bridge', ['link', 'add', `${dev}br`, 'type', 'bridge']],
      ['vxlan', ['link', 'add', `${dev}vx`, 'type', 'vxlan', 'id', '42', 'dstport', '4789', 'local', '127.0.0.1']],
      ['tun (TAP devices)', ['tuntap', 'add', 'mode', 'tap', 'name', `${dev}tp`]],
    ];
    for (const [feature, args] of probes) {
      const r = await runCommand(['ip', '-n', ns, ...args], { allowFailure: true });
      if (r.code !== 0) missing.push(`${feature}: ${r.stderr.trim()}`);
    }
    try {
      await access('/dev/net/tun', constants.R_OK | constants.W_OK);
    } catch {
      missing.push('tun: /dev/net/tun is missing or not accessible (modprobe tun)');
    }
  } finally {
    await runCommand(['ip', 'netns', 'del', ns], { allowFailure: true });
  }
  if (missing.length > 0) {
    throw new LabError(
      'DVS_LAB_KERNEL_FEATURE',
      `missing kernel features (try modprobe veth bridge vxlan tun):\n  ${missing.join('\n  ')}`,
    );
  }
}

export async function preflight(options: PreflightOptions): Promise<void> {
  await checkRoot();
  await checkTools(['ip', 'bridge', ...(options.tools ?? [])]);
  await checkKernelFeatures(options.labId);
}
