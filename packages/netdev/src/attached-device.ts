import { checkAttachable } from './attach-check.js';
import { watchDeviceGone } from './device-gone-watch.js';
import { NetdevError } from './errors.js';
import { describeLink } from './link-info.js';
import { nativeBinding } from './native-binding.js';
import type { PacketRingHandle } from './native-binding.js';
import type { PacketBatch } from './packet-batch.js';
import { NativeFrameDevice } from './native-frame-device.js';
import { checkHeadroom } from './slot-check.js';
import { toNetdevError } from './system-error.js';
import { checkInterfaceName } from './tap-device.js';
import { errnoName } from './errno-names.js';
import { NO_OFFLOADS, TAP_OFFLOADS } from './tap-offloads.js';
import type {
  AttachBatching,
  AttachedDeviceStats,
  AttachedFrameDevice,
  FrameOffloads,
  OpenAttachedOptions,
} from './types.js';
import { zeroFrameDeviceStats } from './frame-device-stats.js';

/**
 * How an attached device batches reads unless told otherwise: 'mmsg'
 * (recvmmsg). The TPACKET_V3 ring reads more frames per CPU-second of ours,
 * because the kernel copies into it in the sender's context, but it hands a
 * block over only when the block is full or its timer (one jiffy, 4 ms here)
 * fires: at a VM's everyday rates that is milliseconds of added latency. See
 * docs/netdev.md for the figures.
 */
export const DEFAULT_ATTACH_BATCHING: AttachBatching = 'mmsg';
/**
 * Whether writes skip the device's qdisc (PACKET_QDISC_BYPASS) unless told
 * otherwise. Measured on a QEMU-held TAP, it bought nothing within the noise
 * (docs/netdev.md), and the qdisc absorbs bursts that a NIC's TX ring would
 * drop (with bypass a busy queue drops the frame) and keeps an operator's tc
 * setup in force. So off; the option stays for uplinks that want it.
 */
export const DEFAULT_QDISC_BYPASS = false;
/** recvmmsg mode: the socket's receive buffer (SO_RCVBUF), enough for bursts of ~5,000 small frames. */
export const DEFAULT_ATTACH_RECEIVE_BUFFER = 4 * 2 ** 20;
/** tpacket modes: the ring's total size. */
export const DEFAULT_ATTACH_RING_BYTES = 4 * 2 ** 20;

interface RingLayout {
  version: 2 | 3;
  blockSize: number;
  blockCount: number;
  frameSize: number;
}

/**
 * TPACKET_V3: blocks of 256 KiB that frames are packed into (the frame size
 * only has to divide the block). TPACKET_V2: fixed frames big enough for the
 * device's MTU now plus the kernel's header and a tag (a frame that grows
 * beyond it later, after an MTU change, is counted too big: attach again).
 */
function ringLayout(batching: AttachBatching, mtu: number, ringBytes: number): RingLayout | null {
  if (batching === 'mmsg') return null;
  if (batching === 'tpacket-v3') {
    const blockSize = 256 * 2 ** 10;
    return { version: 3, blockSize, blockCount: Math.max(2, Math.floor(ringBytes / blockSize)), frameSize: 2048 };
  }
  let frameSize = 2048;
  while (frameSize < mtu + 128) frameSize *= 2;
  const blockSize = Math.max(64 * 2 ** 10, frameSize);
  return { version: 2, blockSize, blockCount: Math.max(2, Math.floor(ringBytes / blockSize)), frameSize };
}

/**
 * A port's view of an existing network device: an AF_PACKET socket bound to
 * its ifindex (src/native/attach.cc), the way a kernel bridge port sees its
 * device. Every FrameDevice contract in types.ts holds; in addition:
 *  - read() returns the frames the device received (what a VM sent into its
 *    QEMU-held TAP, what a container sent into its veth), never the frames
 *    transmitted on it (PACKET_IGNORE_OUTGOING: no echo of our own writes);
 *    write() transmits on the device (to the VM, into the veth).
 *  - An 802.1Q/802.1ad tag the kernel moved into metadata is put back, so a
 *    trunk sees frames exactly as sent. Such a frame starts 4 bytes before
 *    `headroom` (offsets[i] = headroom - 4) when headroom >= 4: the MACs
 *    move into the headroom instead of the payload moving on. Readers use
 *    offsets[i], never headroom.
 *  - A device that is administratively down: writes are dropped and counted
 *    (writeDropsLinkDown), reads return nothing; up again, both resume.
 *  - A device that is deleted (the VM quit and its TAP went, the pod died):
 *    the readable handler runs (told by the namespace's link monitor,
 *    device-gone-watch.ts), `gone` turns true, read() throws
 *    NetdevError DVS_DEVICE_GONE, write() drops and counts everything as
 *    link down (never throws). close() it; a device of the same name that
 *    comes back is a new device (a new ifindex): attach again.
 *  - `mtu` is read from the device on each access (the VM's side may change it).
 *  - With `offloads` (PACKET_VNET_HDR): every frame read and written carries
 *    a 10-byte virtio-net header, as on a TAP with offloads. read() hands
 *    over what the device has: a veth peer's or a VM's 64 KiB TCP super-frame
 *    (GSO_TCPV4/6, GSO_UDP_L4) and partial checksums (NEEDS_CSUM), which
 *    without a header would be one oversized frame dropped as too big.
 *    write() takes super-frames: the device's own TSO, or the kernel's
 *    software GSO, cuts them. A restored 802.1Q tag moves the header along
 *    and adds 4 to its csum_start and hdr_len. `offloads.refused` says
 *    when the kernel refused the header (plain frames then).
 */
export class AttachedDevice extends NativeFrameDevice implements AttachedFrameDevice {
  private readonly counters: AttachedDeviceStats = {
    ...zeroFrameDeviceStats(),
    writeDropsQueueFull: 0,
    vlanTagsRestored: 0,
    readDropsNoVnetHeader: 0,
  };
  private isGone = false;
  private lastMtu: number;
  private readonly stopGoneWatch: () => void;

  /** Use openAttachedDevice(). */
  constructor(
    fd: number,
    readonly name: string,
    readonly ifindex: number,
    readonly kind: string,
    mtu: number,
    readonly batching: AttachBatching,
    private readonly ring: PacketRingHandle | null,
    offloads: FrameOffloads = NO_OFFLOADS,
  ) {
    // attachRecv's and the ring's counters: [too big, link error pending,
    // tags restored, no vnet header]; attachSend's: [invalid, link down,
    // device gone, queue full].
    super(fd, offloads, 4);
    this.lastMtu = mtu;
    // The socket reports its device going down or away as a pending error
    // (POLLERR), on which libuv stops watching: read the error (which clears
    // it), note whether the device is gone, and watch again.
    this.watcher.onError(() => {
      this.refreshStatus();
      this.watcher.rearm();
    });
    // Deletion itself does not wake the socket: the namespace's link monitor
    // tells us, and the readable handler runs so that its read() reports it.
    // The watch holds the device weakly: a device forgotten without close()
    // is still collected (its fd and ring go with it) and stops watching.
    try {
      this.stopGoneWatch = watchDeviceGone(ifindex, AttachedDevice.goneNotifier(new WeakRef(this)));
    } catch (err) {
      this.ring?.close();
      super.close();
      throw err;
    }
    forgottenDevices.register(this, this.stopGoneWatch, this);
    // Deleted between the lookup and the watch: known now.
    this.refreshStatus();
  }

  get mtu(): number {
    if (!this.isClosed && !this.isGone) {
      const mtu = nativeBinding().attachMtu(this.fd, this.ifindex);
      if (mtu > 0) this.lastMtu = mtu;
    }
    return this.lastMtu;
  }

  /** The device was unregistered (deleted, or moved to another namespace). Checked now when asked. */
  get gone(): boolean {
    if (!this.isGone && !this.isClosed) this.refreshStatus();
    return this.isGone;
  }

  /** Counters; rxQueueDrops is brought up to date from the kernel (PACKET_STATISTICS) on each access. */
  get stats(): AttachedDeviceStats {
    if (!this.isClosed) this.counters.rxQueueDrops += nativeBinding().attachKernelStats(this.fd).drops;
    return this.counters;
  }

  read(batch: PacketBatch, headroom: number): number {
    this.assertOpen();
    checkHeadroom(batch, headroom);
    if (this.isGone) throw this.goneError();
    const ring = this.ring;
    const n =
      ring === null
        ? this.nativeRead(nativeBinding().attachRecv, batch, headroom)
        : this.ringRead(ring, batch, headroom);
    const out = this.callCounters;
    this.counters.readDropsTooBig += out[0];
    this.counters.vlanTagsRestored += out[2];
    this.counters.readDropsNoVnetHeader += out[3];
    this.counters.framesRead += n;
    if (out[1] !== 0) this.refreshStatus();
    if (n === 0 && this.isGone) throw this.goneError();
    return n;
  }

  protected writeFrames(batch: PacketBatch, slots: ArrayLike<number>, n: number, headerless: boolean): number {
    const shortest = ETHERNET_HEADER_LENGTH + (headerless ? 0 : this.headerLength);
    if (this.isGone) {
      for (let i = 0; i < n; i++) {
        if (batch.lengths[slots[i]] < shortest) this.counters.writeDropsInvalid++;
        else this.counters.writeDropsLinkDown++;
      }
      return n;
    }
    const taken = this.nativeWrite(nativeBinding().attachSend, batch, slots, n, headerless);
    const drops = this.callCounters;
    this.counters.writeDropsInvalid += drops[0];
    this.counters.writeDropsLinkDown += drops[1];
    this.counters.writeDropsQueueFull += drops[3];
    this.counters.framesWritten += taken - drops[0] - drops[1] - drops[3];
    if (drops[2] !== 0) this.isGone = true;
    return taken;
  }

  /** The TPACKET ring's read: as attachRecv, without a virtio-net header. */
  private ringRead(ring: PacketRingHandle, batch: PacketBatch, headroom: number): number {
    const out = this.callCounters;
    out.fill(0);
    const { buffer, slotSize, capacity, offsets, lengths } = batch;
    try {
      return ring.recv(buffer, slotSize, capacity, offsets, lengths, headroom, batch.family, out);
    } catch (err) {
      throw toNetdevError(err, `read from ${this.describe()}`);
    }
  }

  override close(): void {
    if (this.isClosed) return;
    forgottenDevices.unregister(this);
    this.stopGoneWatch();
    this.ring?.close();
    super.close();
  }

  protected describe(): string {
    return `attached device ${this.name}`;
  }

  /**
   * The callback for the deletion watch, made here so that its closure holds
   * nothing but the WeakRef (a closure made in the constructor would share
   * the constructor's context, and with it `this`).
   */
  private static goneNotifier(device: WeakRef<AttachedDevice>): () => void {
    return () => device.deref()?.markGone();
  }

  /** Told by the namespace's link monitor: wake the reader on its own loop turn, as an I/O event would. */
  private markGone(): void {
    if (this.isClosed || this.isGone) return;
    this.isGone = true;
    setImmediate(() => {
      if (!this.isClosed) this.watcher.notifyReadable();
    });
  }

  private refreshStatus(): void {
    if (this.isClosed) return;
    const status = nativeBinding().attachStatus(this.fd);
    if (status.ifindex !== this.ifindex) this.isGone = true;
  }

  private goneError(): NetdevError {
    return new NetdevError(
      'DVS_DEVICE_GONE',
      `${this.describe()} (ifindex ${this.ifindex}) was deleted: close the port; a device of that name that comes back must be attached again`,
    );
  }
}

const ETHERNET_HEADER_LENGTH = 14;

/** Stops the deletion watch of an attached device that was collected without close(). */
const forgottenDevices = new FinalizationRegistry<() => void>((stop) => stop());

/**
 * Attaches to an existing network device by name, in this thread's network
 * namespace: a TAP that QEMU or libvirt holds, a veth end, a macvlan, a NIC.
 * Nothing about the device changes except its promiscuity count (and its
 * admin state when `up` is set); close() undoes the promiscuity.
 *
 * Throws NetdevError: DVS_NAME_TOO_LONG / DVS_NAME_INVALID (no device can have
 * that name), DVS_NO_DEVICE (no device of that name in this namespace — also
 * what a device in another namespace looks like from here),
 * DVS_DEVICE_UNSUITABLE (the loopback, or not an Ethernet device),
 * DVS_PERMISSION (not root / no CAP_NET_RAW), DVS_NATIVE_UNAVAILABLE, DVS_IO.
 * Options out of range are RangeErrors naming the option.
 */
export async function openAttachedDevice(options: OpenAttachedOptions): Promise<AttachedDevice> {
  options.signal?.throwIfAborted();
  return openAttachedDeviceSync(options);
}

/** openAttachedDevice() without the promise: for code that must open inside a synchronous namespace switch. */
export function openAttachedDeviceSync(options: OpenAttachedOptions): AttachedDevice {
  options.signal?.throwIfAborted();
  checkInterfaceName(options.name);
  const batching = options.batching ?? DEFAULT_ATTACH_BATCHING;
  if (batching !== 'mmsg' && batching !== 'tpacket-v2' && batching !== 'tpacket-v3') {
    throw new RangeError(`batching must be 'mmsg', 'tpacket-v2' or 'tpacket-v3', got ${String(batching)}`);
  }
  const receiveBufferBytes = positiveInteger(
    options.receiveBufferBytes,
    DEFAULT_ATTACH_RECEIVE_BUFFER,
    'receiveBufferBytes',
  );
  const ringBytes = positiveInteger(options.ringBytes, DEFAULT_ATTACH_RING_BYTES, 'ringBytes');
  const offloads = options.offloads ?? false;
  if (typeof offloads !== 'boolean') throw new RangeError(`offloads must be a boolean, got ${String(offloads)}`);
  if (offloads && batching !== 'mmsg') {
    throw new RangeError(
      `offloads need batching 'mmsg' (the rings carry no virtio-net header here), got '${batching}'`,
    );
  }
  const link = describeLink(options.name);
  checkAttachable(link);
  const layout = ringLayout(batching, link.mtu, ringBytes);
  const binding = nativeBinding();
  let opened: { fd: number; vnetHeaderErrno: number };
  try {
    opened = binding.attachOpen({
      ifindex: link.ifindex,
      ringVersion: layout?.version ?? 0,
      ringBlockSize: layout?.blockSize ?? 0,
      ringBlockCount: layout?.blockCount ?? 0,
      ringFrameSize: layout?.frameSize ?? 0,
      qdiscBypass: options.qdiscBypass ?? DEFAULT_QDISC_BYPASS,
      promiscuous: options.promiscuous ?? true,
      receiveBufferBytes,
      up: options.up ?? false,
      vnetHeader: offloads,
    });
  } catch (err) {
    throw toNetdevError(err, `attach to ${options.name}`);
  }
  const fd = opened.fd;
  let ring: PacketRingHandle | null = null;
  if (layout !== null) {
    try {
      ring = new binding.PacketRing(fd, layout.version, layout.blockSize, layout.blockCount, layout.frameSize);
    } catch (err) {
      new binding.FdHandle(fd, () => {}).close();
      throw toNetdevError(err, `map the receive ring of ${options.name}`);
    }
  }
  return new AttachedDevice(
    fd,
    options.name,
    link.ifindex,
    link.kind,
    link.mtu,
    batching,
    ring,
    attachedOffloads(offloads, opened.vnetHeaderErrno),
  );
}

/**
 * A packet socket's header hands over whatever the device holds — any GSO
 * type the header can name, partial checksums — so with the header every
 * offload is on; without it (not asked, or refused) none is.
 */
function attachedOffloads(asked: boolean, refusedErrno: number): FrameOffloads {
  if (!asked) return NO_OFFLOADS;
  if (refusedErrno !== 0) {
    const refusal = {
      offload: 'vnetHeader' as const,
      errno: errnoName(refusedErrno),
      reason: 'PACKET_VNET_HDR refused',
    };
    return Object.freeze({ ...NO_OFFLOADS, refused: Object.freeze([Object.freeze(refusal)]) });
  }
  return Object.freeze({ vnetHeaderLength: 10, enabled: TAP_OFFLOADS, refused: NO_OFFLOADS.refused });
}

function positiveInteger(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 65536 || value > 2 ** 30) {
    throw new RangeError(`${field} must be an integer of 65536..${2 ** 30} bytes, got ${value}`);
  }
  return value;
}
