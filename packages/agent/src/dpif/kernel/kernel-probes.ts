import { PacketBatch, type TunnelSocket } from '@dvs/netdev';
import {
  VXLAN_HEADER_LENGTH,
  formatIpv4Address,
  formatIpv6Address,
  parseIpAddress,
  readVxlanVni,
  writeVxlanHeader,
} from '@dvs/wire';
import { PROBE_ETHERTYPE, PROBE_MAC, type ProbeTarget } from '../../datapath/probe.js';

/** Where a probe came from (its outer source address and UDP port), the VNI it carried, and the frame (valid during the call). */
export type KernelProbeHandler = (source: { address: string; port: number }, vni: number, frame: Buffer) => void;

const SLOT_SIZE = 256;
const HEADROOM = 64;
const SEND_SLOT = new Uint32Array([0]);

/**
 * Tunnel probes of the kernel provider. The vxlan devices own the VTEP's
 * VXLAN port, and a probe frame reaching them would be bridged like any
 * other, so probes travel on a UDP port of their own (`probePort`, the
 * agent's `vtep.probePort`), still VXLAN-encapsulated, between the same
 * underlay addresses: they measure the real underlay path. A probe goes to
 * the port the peer takes probes on: its advertised probe port (a kernel-
 * provider host, `probePort` in its host record), its VXLAN port when it
 * advertises none (a userspace agent, whose pipeline takes probes from any
 * source port of a known VTEP address), or, when nothing is known of it
 * (static peers), this host's own probe port.
 */
export class KernelProbes {
  lastSendError: string | null = null;
  private handler: KernelProbeHandler | null = null;
  private readonly rx = new PacketBatch(16, SLOT_SIZE);
  private readonly tx = new PacketBatch(1, SLOT_SIZE);

  constructor(
    private readonly socket: TunnelSocket,
    readonly probePort: number,
  ) {}

  setHandler(handler: KernelProbeHandler | null): void {
    this.handler = handler;
  }

  start(): void {
    this.socket.onReadable(() => this.poll());
  }

  stop(): void {
    this.socket.onReadable(null);
  }

  close(): void {
    this.stop();
    try {
      this.socket.close();
    } catch {
      // Closed already.
    }
  }

  /** Sends a probe frame in a VXLAN header for `vni` to the VTEP's address, on the probe port. */
  send(target: ProbeTarget, frame: Uint8Array): boolean {
    const address = parseIpAddress(target.vtep.address);
    if (address === null || frame.length > SLOT_SIZE - HEADROOM) {
      this.lastSendError = 'EINVAL';
      return false;
    }
    const b = this.tx;
    b.buffer.set(frame, HEADROOM);
    writeVxlanHeader(b.buffer, HEADROOM - VXLAN_HEADER_LENGTH, target.vni);
    b.offsets[0] = HEADROOM - VXLAN_HEADER_LENGTH;
    b.lengths[0] = frame.length + VXLAN_HEADER_LENGTH;
    const port = target.probePort === undefined ? this.probePort : (target.probePort ?? target.vtep.port);
    if (address.family === 4) b.setIpv4Destination(0, address.ipv4, port);
    else b.setIpv6Destination(0, address.ipv6, port);
    this.lastSendError = null;
    try {
      const sent = this.socket.send(b, SEND_SLOT, 1);
      const refused = this.socket.lastSendError;
      if (sent !== 1) this.lastSendError = 'EAGAIN';
      else if (refused !== undefined && refused !== null) this.lastSendError = refused;
    } catch (err) {
      this.lastSendError = String((err as { errno?: unknown }).errno ?? 'ESENDFAILED');
    }
    return this.lastSendError === null;
  }

  private poll(): void {
    const b = this.rx;
    for (;;) {
      let n: number;
      try {
        n = this.socket.recv(b, 0);
      } catch {
        return;
      }
      if (n === 0) return;
      for (let i = 0; i < n; i++) {
        const start = b.start(i);
        const length = b.lengths[i];
        const vni = readVxlanVni(b.buffer, start, length);
        const frame = start + VXLAN_HEADER_LENGTH;
        // Malformed or not a probe: dropped, as the pipeline would.
        if (vni < 0 || length < VXLAN_HEADER_LENGTH + 14) continue;
        if (b.buffer.readUIntBE(frame, 6) !== PROBE_MAC || b.buffer.readUInt16BE(frame + 12) !== PROBE_ETHERTYPE)
          continue;
        const address = b.family[i] === 4 ? formatIpv4Address(b.ipv4[i]) : formatIpv6Address(b.ipv6, i * 16);
        this.handler?.({ address, port: b.port[i] }, vni, b.buffer.subarray(frame, start + length));
      }
      if (n < b.capacity) return;
    }
  }
}
