/**
 * The super-frame path end to end, in one process, with every piece real but
 * the TAPs: host A's data path reads TSO super-frames from a TAP port
 * (a counting fake behind the real SegmentingPortDevice), segments them, and
 * sends the segments as UDP GSO messages from a real native socket over
 * loopback; host B's real native socket has UDP_GRO on, so each arrives as a
 * super-datagram, which B's data path switches in place (views) to its TAP
 * port, where the real CoalescingTapWriter glues the segments back into a
 * super-frame for the (fake) TAP. Used by the zero-GC test
 * (datapath-alloc.test.ts through offload-alloc-probe.ts).
 *
 * The TAPs are fakes only so that one loop can run a million frames
 * synchronously and count exactly what came out: every segment, and every
 * byte of TCP payload, of VXLAN (IPv4 inside, IPv4 underlay) and GRE-in-UDP
 * (IPv6 inside, IPv6 underlay).
 */
import { zeroFrameDeviceStats, type PacketBatch } from '@dvs/netdev';
import {
  openTunnelSocketSync,
  type FrameDeviceStats,
  type FrameOffloads,
  type NativeTunnelSocket,
  type TunnelSocket,
} from '@dvs/netdev';
import { VirtioNetHeader, decodeVirtioNetHeader, isGsoHeader, writeVirtioNetHeader, type Encap } from '@dvs/wire';
import { MAC_A, MAC_B, buildSuperFrame, patternPayload, timestampOptions } from '@dvs/wire/testing';
import { DataPath } from '../src/datapath/index.js';
import { SegmentingPortDevice, type HeaderTap } from '../src/datapath/segmenting-port-device.js';

const HEADER_LENGTH = 12;
const OFFLOADS: FrameOffloads = { vnetHeaderLength: HEADER_LENGTH, enabled: ['csum', 'tso4', 'tso6'], refused: [] };

/** What a fake TAP was written: plain frames and super-frames, the segments they stand for, their TCP payload. */
export interface TapOut {
  frames: number;
  superFrames: number;
  segments: number;
  payloadBytes: number;
}

/**
 * A TAP with offloads as a HeaderTap: read() hands over `superFrame` (header
 * included) once per arm(); write() and writeHeaderless() count what they
 * take. `headersLength` is a plain frame's bytes before its TCP payload.
 */
class CountingTap implements HeaderTap {
  readonly mtu = 1450;
  readonly offloads = OFFLOADS;
  readonly stats: FrameDeviceStats = zeroFrameDeviceStats();
  readonly out: TapOut = { frames: 0, superFrames: 0, segments: 0, payloadBytes: 0 };
  readable: (() => void) | null = null;
  private armed = 0;
  private readonly header = new VirtioNetHeader();

  constructor(
    readonly name: string,
    private readonly superFrame: Buffer | null,
    private readonly headersLength: number,
  ) {}

  arm(): void {
    this.armed++;
  }

  read(batch: PacketBatch, headroom: number): number {
    if (this.armed === 0 || this.superFrame === null) return 0;
    this.armed--;
    this.superFrame.copy(batch.buffer, headroom);
    batch.offsets[0] = headroom;
    batch.lengths[0] = this.superFrame.length;
    return 1;
  }

  write(batch: PacketBatch, slots: ArrayLike<number>, n: number): number {
    for (let k = 0; k < n; k++) {
      const s = slots[k];
      const h = decodeVirtioNetHeader(batch.buffer, batch.start(s), batch.lengths[s], HEADER_LENGTH, this.header);
      if (!h.ok || !isGsoHeader(h)) {
        this.count(batch.lengths[s] - HEADER_LENGTH, 1, false);
        continue;
      }
      const payload = batch.lengths[s] - HEADER_LENGTH - h.hdrLen;
      this.count(payload + this.headersLength, Math.ceil(payload / h.gsoSize), true);
    }
    return n;
  }

  writeHeaderless(batch: PacketBatch, slots: ArrayLike<number>, n: number): number {
    for (let k = 0; k < n; k++) this.count(batch.lengths[slots[k]], 1, false);
    return n;
  }

  private count(frameLength: number, segments: number, isSuper: boolean): void {
    this.out.frames++;
    if (isSuper) this.out.superFrames++;
    this.out.segments += segments;
    this.out.payloadBytes += frameLength - this.headersLength;
  }

  onReadable(handler: (() => void) | null): void {
    this.readable = handler;
  }

  close(): void {}
}

/** A native socket whose readiness the loop drives (no event loop turn in between). */
class DrivenSocket implements TunnelSocket {
  readable: (() => void) | null = null;
  constructor(readonly native: NativeTunnelSocket) {}
  get localAddress(): string {
    return this.native.localAddress;
  }
  get localPort(): number {
    return this.native.localPort;
  }
  get receivesSuperDatagrams(): boolean {
    return this.native.receivesSuperDatagrams;
  }
  get stats(): NativeTunnelSocket['stats'] {
    return this.native.stats;
  }
  recv(batch: PacketBatch, headroom: number): number {
    return this.native.recv(batch, headroom);
  }
  send(batch: PacketBatch, slots: ArrayLike<number>, n: number): number {
    return this.native.send(batch, slots, n);
  }
  onReadable(handler: (() => void) | null): void {
    this.readable = handler;
  }
  close(): void {
    this.native.close();
  }
}

export interface OffloadCase {
  name: string;
  encap: Encap;
  /** Segments each super-frame is cut into, and its TCP payload. */
  segments: number;
  payloadBytes: number;
  /** One super-frame from A's TAP to B's TAP; false when B's socket never got it (then nothing more is sent). */
  run(): boolean;
  /** What B's TAP was written. */
  out: TapOut;
  /** A's and B's sockets: UDP GSO messages sent, super-datagrams received. */
  sender: NativeTunnelSocket;
  receiver: NativeTunnelSocket;
}

export interface OffloadRig {
  cases: OffloadCase[];
  close(): void;
}

const SPECS = [
  { encap: 'vxlan', vni: 100, version: 4, gso: 1398, segments: 44, underlay: '127.0.0.1' },
  { encap: 'gre-udp', vni: 200, version: 6, gso: 1378, segments: 44, underlay: '::1' },
] as const;

/** Two data paths (hosts A and B) joined over loopback, one network per encap. */
export function offloadRig(): OffloadRig {
  const a = new DataPath({ agingTimer: false, now: () => 1.7e12 });
  const b = new DataPath({ agingTimer: false, now: () => 1.7e12 });
  const opened: NativeTunnelSocket[] = [];
  const cases: OffloadCase[] = [];
  try {
    for (const spec of SPECS) {
      const open = (receiveOffload: boolean): DrivenSocket => {
        const s = openTunnelSocketSync({ address: spec.underlay, port: 0, recvBufferSize: 4 << 20, receiveOffload });
        opened.push(s);
        return new DrivenSocket(s);
      };
      const sa = open(true);
      const sb = open(true);
      if (!sb.receivesSuperDatagrams) throw new Error(`rig: UDP_GRO refused: ${sb.native.groRefusal?.errno}`);
      a.attachSocket(spec.encap, sa);
      b.attachSocket(spec.encap, sb);
      const { vni } = spec;
      for (const [dp, peerPort, mac] of [
        [a, sb.localPort, MAC_B],
        [b, sa.localPort, MAC_A],
      ] as const) {
        const vtep = { address: spec.underlay, port: peerPort };
        const result = dp.apply([
          { kind: 'network:set', network: { vni, encap: spec.encap, mtu: 1450 } },
          { kind: 'peers:set', vni, vteps: [vtep] },
          { kind: 'fdb:set', vni, mac, vtep, seq: 0 },
        ]);
        if (result.rejected.length > 0) throw new Error(`rig tables refused: ${JSON.stringify(result.rejected)}`);
      }
      const payloadBytes = spec.gso * spec.segments;
      const built = buildSuperFrame(
        {
          version: spec.version,
          payload: patternPayload(payloadBytes),
          options: timestampOptions(0xf0000000),
          seq: 0xffff0000,
          srcMac: MAC_A,
          dstMac: MAC_B,
        },
        spec.gso,
      );
      const superFrame = Buffer.alloc(HEADER_LENGTH + built.frame.length);
      writeVirtioNetHeader(superFrame, 0, built.header, HEADER_LENGTH);
      built.frame.copy(superFrame, HEADER_LENGTH);
      const headersLength = built.header.hdrLen;
      const tapA = new CountingTap(`a-${spec.encap}`, superFrame, headersLength);
      const tapB = new CountingTap(`b-${spec.encap}`, null, headersLength);
      a.addPort({ name: tapA.name, mode: 'access', vni }, new SegmentingPortDevice(tapA));
      b.addPort({ name: tapB.name, mode: 'access', vni }, new SegmentingPortDevice(tapB));
      b.addStaticLocal(vni, MAC_B, tapB.name);
      cases.push({
        name: `${spec.encap} over IPv${spec.underlay === '::1' ? 6 : 4}: TAP super-frame (IPv${spec.version} TCP) → segmentation → UDP GSO → UDP GRO → views → coalescing → TAP super-frame`,
        encap: spec.encap,
        segments: spec.segments,
        payloadBytes,
        out: tapB.out,
        sender: sa.native,
        receiver: sb.native,
        run: () => {
          tapA.arm();
          (tapA.readable as () => void)();
          // Loopback delivers within the send, unless softirqs were deferred: then wait for it here.
          const before = sb.native.stats.packetsReceived;
          for (let spin = 0; spin < 1_000_000; spin++) {
            (sb.readable as () => void)();
            if (sb.native.stats.packetsReceived !== before) return true;
          }
          return false;
        },
      });
    }
    a.start();
    b.start();
  } catch (err) {
    for (const s of opened) s.close();
    throw err;
  }
  return {
    cases,
    close() {
      a.stop();
      b.stop();
      for (const s of opened) s.close();
    },
  };
}
