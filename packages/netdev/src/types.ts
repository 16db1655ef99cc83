import type { PacketBatch } from './packet-batch.js';

/**
 * A frame device (a TAP): Ethernet frames in and out, batch-shaped.
 *
 * Contracts:
 *  - read(batch, headroom): reads up to batch.capacity frames without blocking.
 *    Frame i lands at slot i, offset `headroom`; sets offsets[i] = headroom and
 *    lengths[i]. (One exception: a device that puts back an 802.1Q tag the
 *    kernel had stripped, the AttachedDevice, starts that frame 4 bytes
 *    earlier; so readers use offsets[i].) Returns how many frames were read (0 when none is pending;
 *    EAGAIN is never an error). A frame larger than slotSize - headroom is
 *    truncated by the kernel; such a frame is counted and dropped by the device
 *    (it is not returned).
 *  - write(batch, slots, n): writes packets slots[0..n-1] of `batch` (each at
 *    its offsets/lengths). Returns how many were written. When the kernel says
 *    EAGAIN the rest are NOT queued: the caller drops and counts them (or retries
 *    after 'writable'). Never an unbounded queue.
 *  - onReadable(handler): handler runs on Node's event loop (no threadpool, no
 *    busy spin) whenever the device has frames to read; the handler must read
 *    until read() returns less than capacity or 0. null stops watching.
 *    (Every dvs implementation is level-triggered: a handler that stops
 *    early, e.g. for fairness between devices, is simply called again on the
 *    next loop turn while frames are pending.)
 *  - close(): stops watching, closes the fd; a device created by us and not
 *    persistent disappears with it. Idempotent.
 *
 * Details every implementation (native, fake) keeps, checked by the compliance
 * suite (test/compliance/frame-device.ts):
 *  - `headroom` is the byte offset inside each slot where the frame starts;
 *    0 <= headroom < slotSize, else RangeError. read() also sets family[i] = 0.
 *  - write() return value = how many of slots[0..n-1] were consumed from the
 *    front: written, or dropped as invalid (shorter than 14 bytes; counted in
 *    stats.writeDropsInvalid), or dropped because the link is administratively
 *    down (stats.writeDropsLinkDown; a down port drops, it does not throw).
 *    n - return were not taken because of EAGAIN.
 *    A frame may be longer than mtu (room for offloads later).
 *  - Batch sizes: read() takes up to batch.capacity (1..1024) frames per call;
 *    write() takes n <= min(slots.length, 1024) slots, in the order given.
 *  - A slot index outside the batch, or offset + length beyond slotSize, is a
 *    programmer error: RangeError before anything is written.
 *  - Offloads: a device whose `offloads.vnetHeaderLength` is 10 or 12 reads
 *    and writes every frame behind a virtio-net header of that length, in
 *    the slot's bytes: read() puts header + frame at offsets[i] (lengths[i]
 *    counts both; the frame starts at offsets[i] + vnetHeaderLength), and
 *    write() takes header + frame. A header read says what the kernel left
 *    undone — a partial checksum (NEEDS_CSUM), a super-frame to be cut
 *    (gso_type/gso_size) — for the offloads in `offloads.enabled` only; decode
 *    it with @dvs/wire's decodeVirtioNetHeader. A header written may ask the
 *    same of the kernel (a coalesced GSO_TCPV4/6 super-frame, NEEDS_CSUM);
 *    the all-zero header writes the frame as it is. A frame with a header the
 *    kernel refuses (an unknown GSO type, hdr_len or csum_start past the
 *    frame, …) is consumed and counted in writeDropsInvalid, never thrown; so
 *    is one shorter than header + 14 bytes. Super-frames need slots of
 *    SUPER_FRAME_SLOT_BYTES beyond the headroom; in smaller slots they are
 *    dropped as too big. Without offloads (`offloads` absent or
 *    vnetHeaderLength 0) frames are plain, as everywhere else here.
 *  - read/write after close(): NetdevError code DVS_CLOSED; so is setting a
 *    handler. onReadable(null)/onWritable(null) after close() is a no-op
 *    (clean-up code may run in any order).
 *  - Buffers: the device copies bytes in read()/write() and keeps no reference
 *    to the batch after the call returns.
 *  - onWritable(handler) (optional): one-shot; runs once when the device can
 *    take frames again (use it after a short write), then disarms.
 */
export interface FrameDevice {
  readonly name: string;
  readonly mtu: number;
  read(batch: PacketBatch, headroom: number): number;
  write(batch: PacketBatch, slots: ArrayLike<number>, n: number): number;
  onReadable(handler: (() => void) | null): void;
  close(): void;
  /** One-shot writable notification (see above). Optional: every dvs implementation has it. */
  onWritable?(handler: (() => void) | null): void;
  /**
   * Counters kept by the device: one object for its life, updated in place
   * (a reader may keep it; the data path does, per port). Optional: every dvs
   * implementation has them.
   */
  readonly stats?: FrameDeviceStats;
  /** Whether frames carry a virtio-net header, and what the kernel took (see above). Absent: plain frames. */
  readonly offloads?: FrameOffloads;
}

/** A TAP offload (TUNSETOFFLOAD): see src/tap-offloads.ts. */
export type TapOffload = 'csum' | 'tso4' | 'tso6' | 'tsoEcn' | 'uso4' | 'uso6';

/**
 * openTap()'s `offloads` as an object: each flag defaults to true (ask for
 * it), headerLength to 10. `true` is every flag; `false` none and no header.
 */
export interface TapOffloadOptions {
  csum?: boolean;
  tso4?: boolean;
  tso6?: boolean;
  tsoEcn?: boolean;
  uso4?: boolean;
  uso6?: boolean;
  /** The virtio-net header's length: 10 (struct virtio_net_hdr) or 12 (with num_buffers, QEMU's vhost layout). */
  headerLength?: 10 | 12;
}

/** Something asked for that the kernel refused, with its errno and the likely reason. */
export interface OffloadRefusal {
  /** 'vnetHeader': an attached device's PACKET_VNET_HDR; 'udpGro': a tunnel socket's UDP_GRO. */
  readonly offload: TapOffload | 'vnetHeader' | 'udpGro';
  readonly errno: string;
  readonly reason: string;
}

/**
 * A device's offload capability, fixed at open: log it once (describeOffloads).
 *  - vnetHeaderLength: 0 plain frames; 10 or 12: every frame read and
 *    written carries a virtio-net header of this length.
 *  - enabled: what read() may hand over: partial checksums (csum), TCP
 *    super-frames (tso4/tso6/tsoEcn), UDP super-frames (uso4/uso6).
 *  - refused: what was asked for and refused. The device works without it.
 */
export interface FrameOffloads {
  readonly vnetHeaderLength: 0 | 10 | 12;
  readonly enabled: readonly TapOffload[];
  readonly refused: readonly OffloadRefusal[];
}

export interface FrameDeviceStats {
  framesRead: number;
  framesWritten: number;
  /** Frames longer than slotSize - headroom: dropped by read(), never returned. */
  readDropsTooBig: number;
  /** Frames shorter than an Ethernet header (or rejected by the kernel with EINVAL): consumed, not written. */
  writeDropsInvalid: number;
  /** Frames written while the link was administratively down: consumed and dropped (a down port drops). */
  writeDropsLinkDown: number;
  /**
   * Frames dropped before read() because the receive queue was full: the
   * fakes' bounded queue; an attached device's socket queue or ring (the
   * kernel's PACKET_STATISTICS). A TAP keeps none (the kernel counts them
   * as the TAP's tx_dropped).
   */
  rxQueueDrops: number;
}

/**
 * How an attached device batches its reads (writes are always sendmmsg):
 * 'mmsg' recvmmsg; 'tpacket-v2' a ring of fixed-size frames; 'tpacket-v3' a
 * ring of blocks (PACKET_RX_RING, mapped into our memory).
 */
export type AttachBatching = 'mmsg' | 'tpacket-v2' | 'tpacket-v3';

export interface AttachedDeviceStats extends FrameDeviceStats {
  /** Frames the device's qdisc or driver refused (ENOBUFS): consumed, not sent. */
  writeDropsQueueFull: number;
  /** 802.1Q/802.1ad tags put back into received frames (the kernel had moved them into metadata). */
  vlanTagsRestored: number;
  /** With offloads: frames the kernel could not describe with a virtio-net header (a GSO type it has none for); it dropped them. */
  readDropsNoVnetHeader: number;
}

/**
 * A FrameDevice attached to an existing network device (AF_PACKET): a TAP
 * that QEMU holds, a veth end, a macvlan, a NIC. The port kind `attach`.
 * Implemented by AttachedDevice (attached-device.ts, where its contracts
 * are) and by FakeAttachedDevice in @dvs/netdev/testing.
 */
export interface AttachedFrameDevice extends FrameDevice {
  readonly ifindex: number;
  /** LinkInfo.kind of the device at attach time: 'tap', 'veth', 'macvlan', 'physical', … */
  readonly kind: string;
  /** The device was deleted (or moved to another namespace) under us: reads throw DVS_DEVICE_GONE, writes are dropped. */
  readonly gone: boolean;
  readonly stats: AttachedDeviceStats;
  readonly offloads: FrameOffloads;
}

export interface OpenAttachedOptions {
  /** The device's name in this thread's network namespace. */
  name: string;
  /** Default DEFAULT_ATTACH_BATCHING. */
  batching?: AttachBatching;
  /** Writes skip the device's qdisc (PACKET_QDISC_BYPASS). Default DEFAULT_QDISC_BYPASS. */
  qdiscBypass?: boolean;
  /** Receive frames for any MAC (PACKET_MR_PROMISC membership). Default true, as a bridge port. */
  promiscuous?: boolean;
  /** Bring the device administratively up. Default false: its admin state is its owner's. */
  up?: boolean;
  /** 'mmsg': the socket's receive buffer in bytes. */
  receiveBufferBytes?: number;
  /** 'tpacket-*': the ring's size in bytes. */
  ringBytes?: number;
  /**
   * Read and write frames behind a 10-byte virtio-net header
   * (PACKET_VNET_HDR), so the port carries super-frames and partial
   * checksums as the device has them. 'mmsg' batching only. Default false.
   * A kernel that refuses it leaves plain frames, said in `offloads.refused`.
   */
  offloads?: boolean;
  signal?: AbortSignal;
}

export interface TunnelSocketStats {
  packetsReceived: number;
  packetsSent: number;
  /** Datagrams longer than slotSize - headroom: dropped by recv(), never returned. */
  recvDropsTooBig: number;
  /** Packets whose slot had no valid destination (family not 4/6, or family not usable on this socket), or the kernel refused (EINVAL, EMSGSIZE, unreachable): consumed, not sent. */
  sendDropsInvalid: number;
  /**
   * Datagrams the kernel refused, by errno symbol ({ ENETUNREACH: 3 }); they
   * are also in sendDropsInvalid. Optional: kept by the native socket.
   */
  sendDropsByErrno?: Record<string, number>;
  /**
   * How send() hands datagrams to the kernel: 'gso' coalesces runs to one
   * destination into UDP GSO messages (UDP_SEGMENT); 'plain' sends one
   * message per datagram (the kernel refused UDP_SEGMENT on first use).
   * Optional: kept by the native socket.
   */
  sendSegmentation?: 'gso' | 'plain';
  /** UDP GSO messages (of 2+ datagrams each) the kernel took. Optional: kept by the native socket. */
  sendGsoMessages?: number;
  /**
   * How recv() takes datagrams: 'gro' with UDP_GRO on (super-datagrams
   * possible, see TunnelSocket.receivesSuperDatagrams); 'plain' one
   * datagram per slot (not asked for, or the kernel refused). Optional:
   * kept by the native socket.
   */
  recvCoalescing?: 'gro' | 'plain';
  /** Super-datagrams recv() returned (each counted in packetsReceived once per datagram it holds). Optional. */
  recvGroMessages?: number;
}

/**
 * A UDP tunnel socket ("bind" in wireguard-go's words), batch-shaped.
 *
 * Contracts:
 *  - recv(batch, headroom): receives up to batch.capacity datagrams without
 *    blocking; datagram i lands at slot i, offset `headroom`, with its source
 *    address in family/ipv4/ipv6/port[i]. Returns the count (0 when none).
 *  - send(batch, slots, n): sends packets slots[0..n-1], each to the address in
 *    its slot's family/ipv4/ipv6/port. Returns how many the kernel took; on
 *    EAGAIN the rest are dropped by the caller and counted, never queued.
 *  - onReadable(handler): as FrameDevice.
 *  - localPort: the bound port (useful with port 0).
 *
 * Details every implementation (native sendmmsg/recvmmsg, node:dgram, fake)
 * keeps, checked by the compliance suite (test/compliance/tunnel-socket.ts):
 *  - headroom and slot checks, DVS_CLOSED, buffer ownership: as FrameDevice.
 *  - send() return value = how many of slots[0..n-1] were consumed from the
 *    front: sent, or dropped as invalid (stats.sendDropsInvalid). n - return
 *    were not taken because the kernel said EAGAIN; nothing is ever queued.
 *  - A socket bound to '::' also receives IPv4 (dual stack); the source of
 *    such a datagram is reported as family 4. Sending to family 4 from a
 *    socket bound to an IPv6 address other than '::' is dropped as invalid,
 *    and family 6 from an IPv4 socket likewise.
 *  - recv() leaves family/ipv4/ipv6/port of each filled slot set to the source.
 */
export interface TunnelSocket {
  readonly localAddress: string;
  readonly localPort: number;
  /**
   * The source-port pool (per-flow entropy, RFC 7348 §5): the local ports
   * send() can send from, named per slot in PacketBatch.sourcePort. Empty
   * or absent: every datagram leaves from localPort (sourcePort is ignored).
   */
  readonly sourcePorts?: readonly number[];
  /**
   * UDP_GRO is on: recv() may fill a slot with a super-datagram, several
   * datagrams of one source back to back, each segmentSize[i] bytes (the
   * last may be shorter), up to 64 KiB; split it with SuperDatagramViews.
   * Read such a socket with slots of SUPER_FRAME_SLOT_BYTES beyond the
   * headroom: a super-datagram that does not fit is dropped as too big.
   * Absent or false: one datagram per slot, segmentSize[i] = 0.
   */
  readonly receivesSuperDatagrams?: boolean;
  /** Why UDP_GRO was asked for and is off: the kernel's refusal, to be logged once. Absent or null: none. */
  readonly groRefusal?: OffloadRefusal | null;
  recv(batch: PacketBatch, headroom: number): number;
  send(batch: PacketBatch, slots: ArrayLike<number>, n: number): number;
  onReadable(handler: (() => void) | null): void;
  close(): void;
  /** One-shot writable notification, as FrameDevice. Optional: every dvs implementation has it. */
  onWritable?(handler: (() => void) | null): void;
  /** Counters kept by the socket. Optional: every dvs implementation has them. */
  readonly stats?: TunnelSocketStats;
  /**
   * The errno symbol ('ENETUNREACH', 'EHOSTUNREACH', …) of the last datagram
   * the kernel refused during the most recent send() call, or null when that
   * call had no refusal. send() counts such a datagram as consumed (it is
   * dropped, not retried), so this is how a caller learns it was not sent.
   * Optional: kept by the native socket.
   */
  readonly lastSendError?: string | null;
}

export interface OpenTapOptions {
  /** Interface name, at most 15 bytes (IFNAMSIZ - 1). */
  name: string;
  /** Set the MTU after opening (creating) the device. */
  mtu?: number;
  /** Bring the link up. Default true. */
  up?: boolean;
  /** Make the device persistent (survives close). Default false. */
  persistent?: boolean;
  owner?: number;
  group?: number;
  /**
   * Open with a virtio-net header and ask for offloads (IFF_VNET_HDR,
   * TUNSETVNETHDRSZ, TUNSETOFFLOAD): `true` for all of them, an object for
   * some, `false` for plain frames. Default DEFAULT_TAP_OFFLOADS (false). What
   * the kernel took and refused is the device's `offloads`.
   */
  offloads?: boolean | TapOffloadOptions;
  /**
   * IFF_MULTI_QUEUE: every open of the same name attaches one more queue of
   * the device, with its own fd (one per worker thread, workers/ in the
   * agent). The kernel spreads the frames the device transmits (what the VM
   * sends) over the queues by flow hash; a frame written to any queue is
   * received by the device. Every open of a multi-queue TAP must ask for it
   * (an open without is refused: DVS_IO, EINVAL). Default false.
   */
  multiQueue?: boolean;
  signal?: AbortSignal;
}

export interface OpenTunnelOptions {
  /** Local address to bind: '0.0.0.0', '::', or a specific one. */
  address: string;
  /** Local port; 0 picks one. */
  port: number;
  /** Kernel socket buffer sizes in bytes (SO_RCVBUF/SO_SNDBUF); optional. */
  recvBufferSize?: number;
  sendBufferSize?: number;
  /**
   * A source-port pool for per-flow entropy: send-only sockets bound to
   * every port min..max (SO_REUSEPORT, so two encaps' pools may share the
   * range), or `count` ports the kernel picks from its ephemeral range.
   * At most MAX_SOURCE_PORTS ports. Absent: none (send from `port`).
   */
  sourcePorts?: SourcePortPoolOptions;
  /**
   * Turn on UDP_GRO (see TunnelSocket.receivesSuperDatagrams). Default
   * false. A kernel that refuses it leaves plain receive, said in the
   * socket's groRefusal; DVS_UDP_GRO=0 in the environment turns it off for
   * the whole process.
   */
  receiveOffload?: boolean;
  /**
   * SO_REUSEPORT on the receiving socket: several sockets (one per worker
   * thread) bind the same address and port, and the kernel spreads the
   * datagrams among them by a hash of their 4-tuple (so one outer source
   * port, one inner flow with per-flow source ports, reaches one socket).
   * Native socket only: the node:dgram fallback refuses it. Default false.
   */
  reusePort?: boolean;
  signal?: AbortSignal;
}

export type SourcePortPoolOptions = { min: number; max: number } | { count: number };
