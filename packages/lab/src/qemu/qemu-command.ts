/**
 * The QEMU command line for a dvs guest, as a pure function of its spec, so
 * that a migration source and its destination are started from the same
 * rules (QEMU migrates only between identically configured machines) and the
 * line can be checked in a unit test.
 *
 * Choices, and why:
 *  - `-machine pc`, one vCPU, `-nodefaults -no-user-config`: the smallest
 *    machine that has PCI for virtio-net-pci; nothing QEMU adds by itself.
 *  - QEMU's default firmware (SeaBIOS): qboot was measured as no faster here
 *    (QEMU CPU time to a booted guest 3.2–4.5 s with either).
 *  - virtio-net-pci with `romfile=` (no iPXE option ROM to load), the MAC
 *    given, `host_mtu` = the guest's MTU (VIRTIO_NET_F_MTU).
 *  - `-netdev tap,ifname=…,script=no,downscript=no`: QEMU creates the TAP
 *    itself and holds it open; it disappears when QEMU exits.
 *  - ttyS0 to a log file, and a virtio serial port as the command console
 *    on a unix socket (guest-init.ts says why).
 *  - `-no-reboot` with `panic=-1` on the kernel command line: a guest panic
 *    ends QEMU instead of looping.
 *  - tsc=reliable no_timer_check: no clocksource watchdog and no timer check,
 *    which under TCG cost boot time and misfire on a loaded host;
 *    cryptomgr.notests: no crypto self-tests, the slowest initcall under TCG
 *    (about 1 s of a 4 s kernel boot, measured with initcall_debug).
 */
import { LabError } from '../errors.js';
import { GUEST_COMMAND_PORT } from './guest-init.js';

export const QEMU_BINARY = 'qemu-system-x86_64';

export type QemuAccelerator = 'kvm' | 'tcg';

export interface QemuNicSpec {
  /** TAP device QEMU creates (in the namespace QEMU runs in). */
  tap: string;
  /** "02:…" (validated by the caller). */
  mac: string;
  /** host_mtu of the virtio-net device; none when omitted. */
  mtu?: number;
  /** Virtio-net header on the TAP (offloads: checksum, GSO). Default: QEMU's (on). */
  vnetHdr?: boolean;
}

export interface QemuCommandSpec {
  name: string;
  kernel: string;
  initrd: string;
  kernelCommandLine: string;
  accel: QemuAccelerator;
  memoryMb: number;
  /** QMP server socket. */
  qmpSocket?: string;
  /** ttyS0 (the kernel's console) goes to this file. */
  serialLog?: string;
  /**
   * The command console (a virtio serial port in the guest): a unix server
   * socket, with everything the guest writes on it also appended to `log`.
   */
  commandConsole?: { socket: string; log: string };
  nic?: QemuNicSpec;
  /** Start as a migration destination listening on this URI ("unix:/…"). */
  incoming?: string;
  /** Firmware image (-bios); default QEMU's own (SeaBIOS). */
  firmware?: string;
}

/** Extra kernel parameters every guest gets (see the file comment). */
export const GUEST_BOOT_PARAMETERS = 'tsc=reliable no_timer_check cryptomgr.notests';

/** Throws when spec is not representable (QEMU option values cannot hold a comma). */
export function qemuCommand(spec: QemuCommandSpec): string[] {
  const paths = [spec.kernel, spec.initrd, spec.qmpSocket, spec.incoming, spec.firmware, spec.nic?.tap];
  paths.push(spec.serialLog, spec.commandConsole?.socket, spec.commandConsole?.log);
  for (const p of paths)
    if (p?.includes(','))
      throw new LabError('DVS_LAB_BAD_SPEC', `QEMU option value ${p} contains a comma: use a path without one`);
  const argv = [
    QEMU_BINARY,
    '-name',
    spec.name,
    '-nodefaults',
    '-no-user-config',
    '-nographic',
    '-no-reboot',
    '-machine',
    'pc',
    '-accel',
    spec.accel,
    '-smp',
    '1',
    '-m',
    String(spec.memoryMb),
    ...(spec.firmware === undefined ? [] : ['-bios', spec.firmware]),
    '-kernel',
    spec.kernel,
    '-initrd',
    spec.initrd,
    '-append',
    `${spec.kernelCommandLine} ${GUEST_BOOT_PARAMETERS}`,
  ];
  if (spec.serialLog !== undefined) argv.push('-serial', `file:${spec.serialLog}`);
  if (spec.commandConsole !== undefined) {
    const c = spec.commandConsole;
    argv.push(
      '-chardev',
      `socket,id=console0,path=${c.socket},server=on,wait=off,logfile=${c.log},logappend=on`,
      '-device',
      'virtio-serial-pci,id=vser0',
      '-device',
      `virtserialport,chardev=console0,bus=vser0.0,nr=1,name=${GUEST_COMMAND_PORT}`,
    );
  }
  if (spec.qmpSocket !== undefined) argv.push('-qmp', `unix:${spec.qmpSocket},server=on,wait=off`);
  if (spec.nic !== undefined) {
    const nic = spec.nic;
    const vnetHdr = nic.vnetHdr === undefined ? '' : `,vnet_hdr=${nic.vnetHdr ? 'on' : 'off'}`;
    argv.push(
      '-netdev',
      `tap,id=net0,ifname=${nic.tap},script=no,downscript=no${vnetHdr}`,
      '-device',
      `virtio-net-pci,netdev=net0,mac=${nic.mac}${nic.mtu === undefined ? '' : `,host_mtu=${nic.mtu}`},romfile=`,
    );
  }
  if (spec.incoming !== undefined) argv.push('-incoming', spec.incoming);
  return argv;
}
