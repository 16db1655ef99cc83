import { NetdevError } from './errors.js';
import { nativeBinding } from './native-binding.js';
import { NativeFrameDevice } from './native-frame-device.js';
import type { PacketBatch } from './packet-batch.js';
import { checkHeadroom } from './slot-check.js';
import { toNetdevError } from './system-error.js';
import type { FrameDevice, FrameDeviceStats, FrameOffloads, OpenTapOptions } from './types.js';
import { LINK_MTU_MAX, LINK_MTU_MIN, isLinkMtu } from './link-mtu.js';
import { negotiateTapOffloads, parseTapOffloadOption } from './tap-offloads.js';
import { errnoName } from './errno-names.js';
import { zeroFrameDeviceStats } from './frame-device-stats.js';

/** IFNAMSIZ - 1: the kernel's limit for interface names, in bytes. */
export const INTERFACE_NAME_MAX_BYTES = 15;

/**
 * A real TAP (IFF_TAP | IFF_NO_PI, non-blocking) driven by the addon. Every
 * FrameDevice contract in types.ts holds; in addition:
 *  - read() makes one N-API crossing per batch and one read(2) per frame until
 *    EAGAIN or capacity; write() likewise with write(2).
 *  - `existed`: whether the device was there before (adopted) or created now.
 *  - A device deleted under us (`ip link del`) wakes the readable handler, and
 *    read()/write() throw NetdevError DVS_DEVICE_GONE: close() it then.
 *  - `offloads`: opened with `offloads`, every frame carries a virtio-net
 *    header and the kernel may hand over what `offloads.enabled` lists
 *    (partial checksums, TCP/UDP super-frames of up to 64 KiB: give read()
 *    slots of SUPER_FRAME_SLOT_BYTES); `offloads.refused` is what it did not
 *    take. Without, the TAP's offload features are reset to none, so a
 *    persistent TAP that had them hands over plain frames again.
 */
export class TapDevice extends NativeFrameDevice implements FrameDevice {
  readonly stats: FrameDeviceStats = zeroFrameDeviceStats();

  /** Use openTap(). */
  constructor(
    fd: number,
    readonly name: string,
    readonly mtu: number,
    readonly existed: boolean,
    offloads: FrameOffloads,
  ) {
    // tapRead's counters: [too big]; tapWrite's: [invalid, link down].
    super(fd, offloads, 2);
  }

  read(batch: PacketBatch, headroom: number): number {
    this.assertOpen();
    checkHeadroom(batch, headroom);
    const n = this.nativeRead(nativeBinding().tapRead, batch, headroom);
    this.stats.readDropsTooBig += this.callCounters[0];
    this.stats.framesRead += n;
    return n;
  }

  protected writeFrames(batch: PacketBatch, slots: ArrayLike<number>, n: number, headerless: boolean): number {
    const taken = this.nativeWrite(nativeBinding().tapWrite, batch, slots, n, headerless);
    const drops = this.callCounters;
    this.stats.writeDropsInvalid += drops[0];
    this.stats.writeDropsLinkDown += drops[1];
    this.stats.framesWritten += taken - drops[0] - drops[1];
    return taken;
  }

  protected describe(): string {
    return `TAP ${this.name}`;
  }
}

/** Checks a name the way the kernel's dev_valid_name() does, with our own codes. */
export function checkInterfaceName(name: string): void {
  if (Buffer.byteLength(name) > INTERFACE_NAME_MAX_BYTES) {
    throw new NetdevError(
      'DVS_NAME_TOO_LONG',
      `interface name "${name}" is ${Buffer.byteLength(name)} bytes; at most ${INTERFACE_NAME_MAX_BYTES}`,
    );
  }
  if (name === '' || name === '.' || name === '..' || /[/:\s]/.test(name)) {
    throw new NetdevError('DVS_NAME_INVALID', `"${name}" is not a valid interface name`);
  }
}

/**
 * Opens a TAP by name: creates it, or adopts it when a TAP of that name exists
 * (a persistent one, or one made by libvirt/QEMU's helpers). Sets owner/group,
 * persistence, MTU and link up as asked. Throws NetdevError with code
 * DVS_NAME_TOO_LONG, DVS_NAME_INVALID, DVS_NO_TUN_DEVICE, DVS_PERMISSION,
 * DVS_NAME_IN_USE (a non-TAP device has the name), DVS_DEVICE_BUSY (another fd
 * holds it) or DVS_IO. An offload the kernel refuses is no error: it is in
 * the device's `offloads.refused` (log it once: describeOffloads()).
 *
 * `persistent` undefined leaves an adopted device's persistence as it was (a
 * created one is not persistent).
 */
export async function openTap(options: OpenTapOptions): Promise<TapDevice> {
  options.signal?.throwIfAborted();
  return openTapSync(options);
}

/** openTap() without the promise: for code that must open inside a synchronous namespace switch. */
export function openTapSync(options: OpenTapOptions): TapDevice {
  checkInterfaceName(options.name);
  const mtu = options.mtu ?? 0; // 0: leave the MTU as it is
  if (options.mtu !== undefined && !isLinkMtu(mtu)) {
    throw new RangeError(`mtu must be ${LINK_MTU_MIN}..${LINK_MTU_MAX}, got ${mtu}`);
  }
  const request = parseTapOffloadOption(options.offloads);
  const binding = nativeBinding();
  let opened: ReturnType<ReturnType<typeof nativeBinding>['tapOpen']>;
  try {
    opened = binding.tapOpen({
      name: options.name,
      persistent: options.persistent === undefined ? -1 : options.persistent ? 1 : 0,
      owner: options.owner ?? -1,
      group: options.group ?? -1,
      mtu,
      up: options.up ?? true,
      vnetHeaderLength: request.vnetHeaderLength,
      multiQueue: options.multiQueue === true,
    });
  } catch (err) {
    throw toNetdevError(err, `open TAP ${options.name}`);
  }
  const fd = opened.fd;
  let offloads: FrameOffloads;
  try {
    offloads = negotiateTapOffloads(request, (mask) => binding.tapSetOffload(fd, mask), errnoName);
  } catch (err) {
    new binding.FdHandle(fd, () => {}).close();
    throw toNetdevError(err, `set offloads of TAP ${options.name}`);
  }
  return new TapDevice(fd, opened.name, opened.mtu, opened.existed, offloads);
}
