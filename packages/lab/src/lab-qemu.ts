/**
 * Real QEMU VMs in the lab (`lab up --qemu-vms N`), the way a hypervisor host
 * runs them:
 *
 *  - QEMU runs in its host's namespace, detached from the lab process, and
 *    creates and holds its TAP there (`-netdev tap,ifname=…`), as libvirt's
 *    QEMU does. Its pid, start time and run folder (QMP and console sockets,
 *    logs) are recorded in the lab state right after it starts, so `lab down`
 *    kills it by pid, also after a crash of the lab process.
 *  - The TAP gets the network's overlay MTU (the guest NIC's too, through
 *    virtio-net `host_mtu`), then the host's agent attaches it in one call
 *    (`ports/add <tap> <vni> attach`), as QEMU's `dvs-ifup` would. On a kernel
 *    host the TAP joins the kernel bridge of its VNI instead.
 *  - No virtio-net header on the TAP (`vnet_hdr=off`): the guest then gets no
 *    checksum/segmentation offloads and hands the TAP whole frames of at most
 *    its MTU, which the attach port forwards as they are. (An attach port
 *    that takes GSO super-frames is another piece of work.)
 *  - After boot the guest gets the same on-link routes to the other lab
 *    subnets as a namespace VM (vm-interface.ts): a ping across networks then
 *    fails only if the overlay isolates them.
 */
import { join } from 'node:path';
import type { AdminClient } from '@dvs/admin-client';
import { DEFAULT_OVERLAY_MTU } from '@dvs/wire';
import { ipBatch, type RunResult } from './command-runner.js';
import { LabError } from './errors.js';
import { addAgentPort } from './agent-host.js';
import { devices, OVERLAY_SUBNETS, qemuVmName, vmAddress, vmMac } from './lab-layout.js';
import type { LabRecorder } from './lab-recorder.js';
import { labDir, type HostState, type QemuVmState } from './lab-state.js';
import { detectAcceleration } from './qemu/acceleration.js';
import { shellQuote } from './qemu/guest-console.js';
import { ensureGuestImage, type GuestImage } from './qemu/guest-image.js';
import { GUEST_BOOT_PARAMETERS, type QemuAccelerator } from './qemu/qemu-command.js';
import { QemuVm, type QemuVmRecord } from './qemu/qemu-vm.js';

/** The guest's own parameters, plus no IPv6: the guest is as quiet as a namespace VM (no RS, DAD, MLD). */
export const LAB_GUEST_BOOT_PARAMETERS = `${GUEST_BOOT_PARAMETERS} ipv6.disable=1`;

/**
 * Where QEMU VM k (1-based) goes: each dvs host in turn takes one per network
 * (with 2 networks: qvm1 and qvm2 on the first host, in networks 1 and 2;
 * qvm3 and qvm4 on the second; …).
 */
export function qemuVmPlacement(k: number, dvsHosts: number, networks: number): { host: number; network: number } {
  if (!Number.isInteger(k) || k < 1 || dvsHosts < 1 || networks < 1)
    throw new LabError(
      'DVS_LAB_BAD_SPEC',
      `no placement for QEMU VM ${k} on ${dvsHosts} host(s), ${networks} network(s)`,
    );
  return { host: Math.floor((k - 1) / networks) % dvsHosts, network: (k - 1) % networks };
}

export interface QemuOnHostOptions {
  /** A migration destination: QEMU waits for the source's state (`-incoming`). */
  incoming?: boolean;
  /** Records the new QEMU in the lab state (written before the TAP is plugged in). */
  onStarted: (record: QemuVmRecord) => Promise<void>;
  image?: GuestImage;
  accel?: QemuAccelerator;
  signal?: AbortSignal;
}

/**
 * Starts QEMU for `vm` on `host` with TAP `tap` and has it recorded
 * (`onStarted`) before anything else can fail; then
 * gives the TAP its MTU and plugs it in: attached by the host's agent (dvs
 * host; `admin` required) or enslaved to the VNI's kernel bridge (kernel
 * host). The guest boots on its own (a destination does not boot: it waits).
 * On a failure after the start, QEMU is killed again and the error rethrown.
 */
export async function startQemuOnHost(
  labId: string,
  host: HostState,
  vm: Omit<QemuVmState, 'qemu'>,
  tap: string,
  admin: AdminClient | null,
  options: QemuOnHostOptions,
): Promise<QemuVm> {
  const qemu = await QemuVm.start({
    name: vm.name,
    netns: host.netns,
    tap,
    mac: vm.mac,
    guest: { ip: `${vm.address}/${vm.prefixLength}`, mtu: vm.mtu, name: vm.name },
    vnetHdr: false,
    incoming: options.incoming === true,
    detached: true,
    // One folder per QEMU: the TAP name is new with each migration.
    runDir: join(labDir(labId), 'qemu', tap),
    bootParameters: LAB_GUEST_BOOT_PARAMETERS,
    image: options.image,
    accel: options.accel,
    signal: options.signal,
  });
  try {
    await options.onStarted(qemu.record());
    if (host.kind === 'dvs') {
      if (admin === null)
        throw new LabError('DVS_LAB_BAD_SPEC', `QEMU VM ${vm.name} on ${host.name}: no agent to attach it`);
      await ipBatch(host.netns, [`link set dev ${tap} mtu ${vm.mtu}`], { signal: options.signal });
      await addAgentPort(admin, tap, vm.vni, 'attach');
    } else {
      const bridge = devices.kernelBridge(labId, vm.vni);
      await ipBatch(host.netns, [`link set dev ${tap} mtu ${vm.mtu} master ${bridge} up`], { signal: options.signal });
    }
  } catch (err) {
    await qemu.kill().catch(() => undefined);
    throw err;
  }
  return qemu;
}

/** Shell lines a booted guest runs: on-link routes to the other lab subnets (as a namespace VM has). */
export function guestRouteCommands(vm: Pick<QemuVmState, 'address' | 'prefixLength'>): string[] {
  const own = `${vm.address.split('.').slice(0, 3).join('.')}.0/${vm.prefixLength}`;
  return OVERLAY_SUBNETS.filter((s) => s !== own).map((s) => `ip route add ${s} dev eth0`);
}

/** Waits until the guest's console answers, then gives it its routes. */
export async function prepareGuest(
  qemu: QemuVm,
  vm: Pick<QemuVmState, 'name' | 'address' | 'prefixLength'>,
  signal?: AbortSignal,
): Promise<void> {
  await qemu.waitBooted({ timeoutMs: 180_000, signal });
  for (const line of guestRouteCommands(vm)) {
    const r = await qemu.exec(line, { signal });
    if (r.status !== 0)
      throw new LabError('DVS_LAB_COMMAND_FAILED', `guest ${vm.name}: ${line} failed: ${r.output.trim()}`);
  }
}

/** Connects to a recorded QEMU VM (QMP and, on first use, its console); LabError DVS_LAB_NOT_FOUND when it is gone. */
export function openQemuVm(record: QemuVmRecord, signal?: AbortSignal): Promise<QemuVm> {
  return QemuVm.open(record, { signal });
}

/**
 * Runs a command in a QEMU guest over its console (argv joined into one
 * shell line); stdout holds stdout and stderr together.
 */
export async function execInGuest(
  vm: QemuVmState,
  argv: readonly string[],
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<RunResult> {
  const qemu = await openQemuVm(vm.qemu, options.signal);
  try {
    const r = await qemu.exec(argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : shellQuote(a))).join(' '), options);
    return { code: r.status, stdout: r.output, stderr: '' };
  } finally {
    qemu.disconnect();
  }
}

/**
 * `lab up --qemu-vms N`: places, starts and attaches N QEMU VMs (all QEMUs
 * at once), then waits until every guest's console answers and gives each
 * its routes. Everything is recorded as it starts: a failure leaves a state
 * that `lab down` clears.
 */
export async function buildQemuVms(
  recorder: LabRecorder,
  count: number,
  admin: (host: string) => AdminClient,
  progress: (step: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const state = recorder.state;
  const dvsHosts = state.hosts.filter((h) => h.kind === 'dvs');
  progress('QEMU guest image and acceleration (built once, then cached)');
  const image = await ensureGuestImage({ signal, onProgress: progress });
  const accel = (await detectAcceleration(image, { signal })).accel;
  const qemus: Array<{ qemu: QemuVm; vm: QemuVmState }> = [];
  try {
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const k = i + 1;
        const place = qemuVmPlacement(k, dvsHosts.length, state.networks.length);
        const host = dvsHosts[place.host];
        const network = state.networks[place.network];
        const number = state.vms.length + k;
        const { address, prefixLength } = vmAddress(network.index, number);
        const vm: Omit<QemuVmState, 'qemu'> = {
          name: qemuVmName(k),
          index: k,
          number,
          host: host.name,
          vni: network.vni,
          mac: vmMac(state.id, number),
          address,
          prefixLength,
          mtu: DEFAULT_OVERLAY_MTU,
          tap: devices.qemuTap(state.id, k, 0),
          generation: 0,
        };
        progress(`QEMU VM ${vm.name} on ${host.name}: ${address} ${vm.mac} (VNI ${vm.vni}), TAP ${vm.tap} attached`);
        let started: QemuVmState | null = null;
        const qemu = await startQemuOnHost(state.id, host, vm, vm.tap, admin(host.name), {
          image,
          accel,
          signal,
          onStarted: (record) =>
            recorder.update((s) => {
              started = { ...vm, qemu: record };
              (s.qemuVms ??= []).push(started);
            }),
        });
        qemus.push({ qemu, vm: started! });
      }),
    );
    // Started side by side, recorded as each started: keep them in their order.
    await recorder.update((s) => s.qemuVms?.sort((a, b) => a.index - b.index));
    progress(`waiting for ${count} QEMU guest(s) to boot (${accel})`);
    await Promise.all(qemus.map(({ qemu, vm }) => prepareGuest(qemu, vm, signal)));
    progress(
      `QEMU guests up: ${qemus.map(({ qemu, vm }) => `${vm.name} ${((qemu.bootMs ?? 0) / 1000).toFixed(1)} s`).join(', ')}`,
    );
  } finally {
    for (const { qemu } of qemus) qemu.disconnect();
  }
}
