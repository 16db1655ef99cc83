/**
 * Open vSwitch for the `ovs-userspace` path, installed from Debian on demand
 * (not by scripts/bootstrap.sh: on a host with systemd the package's
 * postinst starts and enables a system-wide OVS, and bootstrap must leave no
 * daemon behind). Only when the path is asked for (`--ovs`, or `--only
 * …,ovs-userspace`) and a program is missing:
 *
 *  - apt-get installs openvswitch-switch (and ethtool, for the VM veth's
 *    checksum offload);
 *  - while it runs, a policy-rc.d that denies every start is in place (the
 *    Debian mechanism invoke-rc.d and deb-systemd-invoke both obey); the bench
 *    writes one only if there is none, and removes it afterwards;
 *  - on a systemd host, the units the package enabled for the next boot are
 *    disabled again (the bench installed them, nothing else uses them).
 *
 * The path's own daemons are private (ovs-path.ts); no system OVS is started.
 */
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { runCommand } from '../command-runner.js';
import { LabError } from '../errors.js';

const NEEDS: ReadonlyArray<readonly [program: string, pkg: string]> = [
  ['/usr/sbin/ovs-vswitchd', 'openvswitch-switch'],
  ['/usr/bin/ovsdb-tool', 'openvswitch-common'],
  ['/usr/sbin/ethtool', 'ethtool'],
];
const POLICY_RC_D = '/usr/sbin/policy-rc.d';
const OVS_UNITS = ['openvswitch-switch.service', 'ovs-record-hostname.service'];

/** The Debian packages the ovs-userspace path still needs (empty: all there). */
export function missingOvsPackages(): string[] {
  return [...new Set(NEEDS.filter(([program]) => !existsSync(program)).map(([, pkg]) => pkg))];
}

export async function ensureOvsInstalled(say: (line: string) => void, signal?: AbortSignal): Promise<void> {
  const missing = missingOvsPackages();
  if (missing.length === 0) return;
  say(
    `ovs-userspace: installing ${missing.join(', ')} from Debian (apt-get; no OVS service is started, the path runs its own daemons)`,
  );
  const ownPolicy = !existsSync(POLICY_RC_D);
  if (ownPolicy)
    await writeFile(
      POLICY_RC_D,
      '#!/bin/sh\n# dvs datapath bench: no service starts while it installs Open vSwitch.\nexit 101\n',
      {
        mode: 0o755,
      },
    );
  try {
    const install = ['apt-get', 'install', '-y', '--no-install-recommends', ...missing];
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let r = await runCommand(install, { env, allowFailure: true, timeoutMs: 600_000, signal });
    if (r.code !== 0) {
      say('ovs-userspace: apt-get install failed; refreshing the package lists once (apt-get update)');
      await runCommand(['apt-get', 'update'], { env, allowFailure: true, timeoutMs: 600_000, signal });
      r = await runCommand(install, { env, allowFailure: true, timeoutMs: 600_000, signal });
    }
    if (r.code !== 0)
      throw new LabError(
        'DVS_LAB_TOOL_MISSING',
        `ovs-userspace: apt-get install ${missing.join(' ')} failed: ${r.stderr.trim().split('\n').slice(-5).join(' / ')}; leave the path out (no --ovs)`,
      );
  } finally {
    if (ownPolicy) await rm(POLICY_RC_D, { force: true });
  }
  if (missing.includes('openvswitch-switch') && existsSync('/run/systemd/system'))
    await runCommand(['systemctl', 'disable', ...OVS_UNITS], { allowFailure: true, signal });
  const still = missingOvsPackages();
  if (still.length > 0)
    throw new LabError('DVS_LAB_TOOL_MISSING', `ovs-userspace: still missing after apt-get: ${still.join(', ')}`);
}
