import type { PacketBatch } from './packet-batch.js';

/**
 * A frame device (a TAP): Ethernet frames in and out, batch-shaped.
 *
 * Contracts:
 *  - read(batch, headroom): reads up to batch.capacity frames without blocking.
 *    Frame i lands at slot i, offset `headroom`; sets offsets[i] = headroom and
 *    lengths[i]. Returns how many frames were read (0 when none is pending;
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
 *  - close(): stops watching, closes the fd; a device created by us and not
 *    persistent disappears with it. Idempotent.
 */
export interface FrameDevice {
  readonly name: string;
  readonly mtu: number;
  read(batch: PacketBatch, headroom: number): number;
  write(batch: PacketBatch, slots: ArrayLike<number>, n: number): number;
  onReadable(handler: (() => void) | null): void;
  close(): void;
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
 */
export interface TunnelSocket {
  readonly localAddress: string;
  readonly localPort: number;
  recv(batch: PacketBatch, headroom: number): number;
  send(batch: PacketBatch, slots: ArrayLike<number>, n: number): number;
  onReadable(handler: (() => void) | null): void;
  close(): void;
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
}

export interface OpenTunnelOptions {
  /** Local address to bind: '0.0.0.0', '::', or a specific one. */
  address: string;
  /** Local port; 0 picks one. */
  port: number;
  /** Kernel socket buffer sizes in bytes (SO_RCVBUF/SO_SNDBUF); optional. */
  recvBufferSize?: number;
  sendBufferSize?: number;
}
