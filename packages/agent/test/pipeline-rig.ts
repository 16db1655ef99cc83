/**
 * A DataPath whose devices and sockets take every frame and count it, and the
 * pipeline paths to drive through it: used by the zero-GC test
 * (datapath-alloc.test.ts) and the data-path benchmark (bench/index.ts), so
 * both measure the same paths.
 *
 *  - VNI 100, VXLAN: ports p1, p2 (access) and p3 (trunk, VLAN 10); REMOTE_VM
 *    behind 198.51.100.2; LOCAL_VM static on p2; flood list of two VTEPs; an
 *    IPv6 peer (2001:db8::2).
 *    ARP/ND suppression on: LOCAL_VM holds 203.0.113.2 and 2001:db8:100::2
 *    (it announced them on p2).
 *  - VNI 200, GRE-in-UDP: ports p4, p5 (access) and p3 (trunk, VLAN 20); the
 *    same remote and local MACs (on p5), two VTEPs in its flood list. p4 is
 *    policed on ingress, p5 limited on egress (QoS), with buckets too deep
 *    to run dry here: every frame takes its tokens and passes.
 *  - VNI 300, VXLAN: p6 with port security (SENDER_VM at 90.90.90.90 — the
 *    frames' fill bytes — a MAC limit and storm control) and p7; PROVISIONAL_VM
 *    placed by the controller at 198.51.100.3 and claimed by 198.51.100.2
 *    (a provisional move: copies go to both).
 */
import { PacketBatch, type FrameDevice, type TunnelSocket } from '@dvs/netdev';
import {
  DEFAULT_ENCAP_PORTS,
  ENCAPS,
  buildArpRequest,
  buildGratuitousArp,
  parseIpv4Address,
  parseIpv6Address,
  parseMac,
  writeMac,
  writeNeighborAdvertisement,
  writeNeighborSolicitation,
  type Encap,
} from '@dvs/wire';
import { DataPath, FlowCache, FlowSampler, FlowTap, HEADROOM } from '../src/datapath/index.js';
import type { Pipeline, SocketTarget } from '../src/datapath/pipeline.js';
import type { Port } from '../src/datapath/port.js';

const mac = (text: string): number => parseMac(text) as number;
export const REMOTE_VM = mac('52:54:00:00:be:ef');
export const LOCAL_VM = mac('52:54:00:00:00:02');
export const SENDER_VM = mac('52:54:00:00:00:01');
const PEER_B = '198.51.100.2';
const PEER_B_NUMBER = 0xc6336402;
const PEER_V6 = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 2]);
const LOCAL_VM_IP = parseIpv4Address('203.0.113.2') as number;
const LOCAL_VM_IPV6 = parseIpv6Address('2001:db8:100::2') as Uint8Array;
const SENDER_IP = parseIpv4Address('203.0.113.1') as number;
const SENDER_IPV6 = parseIpv6Address('2001:db8:100::1') as Uint8Array;
const PORTS = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'] as const;
export const PROVISIONAL_VM = mac('52:54:00:00:00:77');
type PortName = (typeof PORTS)[number];

/** Frames each device and socket took. */
export type OutCounts = Record<PortName | Encap, number>;

export interface PipelineRig {
  dp: DataPath;
  pipeline: Pipeline;
  batch: PacketBatch;
  out: OutCounts;
}

export function pipelineRig(batchSize = 64): PipelineRig {
  const out = Object.fromEntries([...PORTS, ...ENCAPS].map((k) => [k, 0])) as OutCounts;
  const device = (name: PortName): FrameDevice => ({
    name,
    mtu: 1500,
    read: () => 0,
    write: (_b, _s, n) => {
      out[name] += n;
      return n;
    },
    onReadable() {},
    close() {},
  });
  const socket = (encap: Encap): TunnelSocket => ({
    localAddress: '0.0.0.0',
    localPort: DEFAULT_ENCAP_PORTS[encap],
    recv: () => 0,
    send: (_b, _s, n) => {
      out[encap] += n;
      return n;
    },
    onReadable() {},
    close() {},
  });
  const dp = new DataPath({ agingTimer: false, now: () => 1.7e12, trustControlPlane: true });
  for (const encap of ENCAPS) dp.attachSocket(encap, socket(encap));
  for (const [vni, encap] of [
    [100, 'vxlan'],
    [200, 'gre-udp'],
  ] as const) {
    const port = DEFAULT_ENCAP_PORTS[encap];
    const result = dp.apply([
      { kind: 'network:set', network: { vni, encap, mtu: 1450, arpSuppression: vni === 100 } },
      {
        kind: 'flood:set',
        vni,
        vteps: [
          { address: PEER_B, port },
          { address: '198.51.100.3', port },
        ],
      },
      { kind: 'fdb:set', vni, mac: REMOTE_VM, vtep: { address: PEER_B, port }, seq: 0 },
      { kind: 'peers:set', vni, vteps: [{ address: '2001:db8::2', port }] },
    ]);
    if (result.rejected.length > 0) throw new Error(`rig tables refused: ${JSON.stringify(result.rejected)}`);
  }
  dp.addPort({ name: 'p1', mode: 'access', vni: 100 }, device('p1'));
  dp.addPort({ name: 'p2', mode: 'access', vni: 100 }, device('p2'));
  dp.addPort(
    {
      name: 'p3',
      mode: 'trunk',
      vlans: new Map([
        [10, 100],
        [20, 200],
      ]),
    },
    device('p3'),
  );
  dp.addPort({ name: 'p4', mode: 'access', vni: 200 }, device('p4'));
  dp.addPort({ name: 'p5', mode: 'access', vni: 200 }, device('p5'));
  const vxlanPort = DEFAULT_ENCAP_PORTS.vxlan;
  dp.apply([
    { kind: 'network:set', network: { vni: 300, encap: 'vxlan', mtu: 1450 } },
    { kind: 'flood:set', vni: 300, vteps: [{ address: PEER_B, port: vxlanPort }] },
    { kind: 'fdb:set', vni: 300, mac: REMOTE_VM, vtep: { address: PEER_B, port: vxlanPort }, seq: 0 },
    { kind: 'fdb:set', vni: 300, mac: PROVISIONAL_VM, vtep: { address: '198.51.100.3', port: vxlanPort }, seq: 0 },
  ]);
  dp.addPort(
    {
      name: 'p6',
      mode: 'access',
      vni: 300,
      security: {
        allowed: [{ mac: '52:54:00:00:00:01', ips: ['90.90.90.90'] }],
        maxMacs: 4,
        storm: { broadcastPps: 1000 },
      },
    },
    device('p6'),
  );
  dp.addPort({ name: 'p7', mode: 'access', vni: 300 }, device('p7'));
  dp.addStaticLocal(100, LOCAL_VM, 'p2');
  dp.addStaticLocal(200, LOCAL_VM, 'p5');
  dp.setPortPolicer('p4', 'ingress', { rateKbps: 1000, burstKb: 100_000_000 });
  dp.setPortPolicer('p5', 'egress', { rateKbps: 1000, burstKb: 100_000_000 });
  dp.injectFrame('p2', buildGratuitousArp(LOCAL_VM, LOCAL_VM_IP));
  const na = Buffer.alloc(86);
  writeNeighborAdvertisement(na, 0, {
    srcMac: LOCAL_VM,
    dstMac: 0x333300000001,
    srcIp: LOCAL_VM_IPV6,
    dstIp: parseIpv6Address('ff02::1') as Uint8Array,
    targetIp: LOCAL_VM_IPV6,
    override: true,
  });
  dp.injectFrame('p2', na);
  for (const key of Object.keys(out)) out[key as keyof OutCounts] = 0;
  const pipeline = (dp as unknown as { pipeline: Pipeline }).pipeline;
  const batch = new PacketBatch(batchSize, 9344);
  // 198.51.100.2 claims PROVISIONAL_VM: moved provisionally (the clock never reaches its deadline).
  const claim = vxlanOf(300, rigFrame(0xffffffffffff, PROVISIONAL_VM));
  batch.buffer.set(claim, HEADROOM);
  batch.offsets[0] = HEADROOM;
  batch.lengths[0] = claim.length;
  batch.setIpv4Destination(0, PEER_B_NUMBER, 40000);
  pipeline.processTunnelBatch(pipeline.sockets.get('vxlan') as SocketTarget, batch, 1);
  out.p6 = out.p7 = 0;
  if (dp.fdbEntries(300).find((e) => e.provisionalHome !== undefined) === undefined)
    throw new Error('rig: the provisional move did not happen');
  return { dp, pipeline, batch, out };
}

/** An untagged frame of `length` bytes from `src` to `dst`. */
export function rigFrame(dst: number, src: number, length = 114): Buffer {
  const f = Buffer.alloc(length, 0x5a);
  writeMac(f, 0, dst);
  writeMac(f, 6, src);
  f.writeUInt16BE(0x0800, 12);
  return f;
}

const vxlanOf = (vni: number, inner: Buffer): Buffer =>
  Buffer.concat([Buffer.from([0x08, 0, 0, 0, (vni >> 16) & 255, (vni >> 8) & 255, vni & 255, 0]), inner]);
const greOf = (vni: number, inner: Buffer): Buffer =>
  Buffer.concat([Buffer.from([0x20, 0, 0x65, 0x58, (vni >> 16) & 255, (vni >> 8) & 255, vni & 255, 0]), inner]);

export interface PipelineCase {
  name: string;
  /** What each batch slot holds before the batch is switched. */
  payload: Buffer;
  /** The sender's address family (tunnel cases): the peer at 198.51.100.2, or 2001:db8::2. */
  from: 4 | 6;
  /** Switches `n` frames of the rig's batch. */
  run(n: number): void;
  /** Frames out per frame in, by device or socket. */
  outPerFrame: Partial<OutCounts>;
  /** The pipeline rewrites the frame in place (an answer): the payload is loaded again before each batch. */
  rewritten?: boolean;
}

function neighborSolicitation(): Buffer {
  const f = Buffer.alloc(86);
  writeNeighborSolicitation(f, 0, { srcMac: SENDER_VM, srcIp: SENDER_IPV6, targetIp: LOCAL_VM_IPV6 });
  return f;
}

export function pipelineCases(rig: PipelineRig): PipelineCase[] {
  const { pipeline, batch } = rig;
  const port = (name: PortName): Port => pipeline.ports.get(name) as Port;
  const socket = (encap: Encap): SocketTarget => pipeline.sockets.get(encap) as SocketTarget;
  const fromPort = (name: PortName) => (n: number) => pipeline.processPortBatch(port(name), batch, n);
  const fromTunnel = (encap: Encap) => (n: number) => pipeline.processTunnelBatch(socket(encap), batch, n);
  const toLocal = rigFrame(LOCAL_VM, REMOTE_VM);
  const flowTap = rigFlowTap();
  return [
    {
      name: 'VXLAN: port → known remote VTEP (encap in place)',
      payload: rigFrame(REMOTE_VM, SENDER_VM),
      from: 4,
      run: fromPort('p1'),
      outPerFrame: { vxlan: 1 },
    },
    {
      name: 'VXLAN: port → local port',
      payload: rigFrame(LOCAL_VM, SENDER_VM),
      from: 4,
      run: fromPort('p1'),
      outPerFrame: { p2: 1 },
    },
    {
      name: 'VXLAN: port → flood (2 ports, 1 tagged, 2 VTEPs)',
      payload: rigFrame(0xffffffffffff, SENDER_VM),
      from: 4,
      run: fromPort('p1'),
      outPerFrame: { p2: 1, p3: 1, vxlan: 2 },
    },
    {
      name: 'VXLAN: tunnel → local port (decap)',
      payload: vxlanOf(100, toLocal),
      from: 4,
      run: fromTunnel('vxlan'),
      outPerFrame: { p2: 1 },
    },
    {
      name: 'flow export: port → remote VTEP, sFlow 1-in-1000 + IPFIX cache',
      payload: udpFrame(REMOTE_VM, SENDER_VM),
      from: 4,
      run: withFlowTap(rig, flowTap, fromPort('p1')),
      outPerFrame: { vxlan: 1 },
    },
    {
      name: 'flow export: tunnel → local port (decap), IPFIX cache',
      payload: vxlanOf(100, udpFrame(LOCAL_VM, REMOTE_VM)),
      from: 4,
      run: withFlowTap(rig, flowTap, fromTunnel('vxlan')),
      outPerFrame: { p2: 1 },
    },
    {
      name: 'VXLAN: tunnel from an IPv6 peer → local port',
      payload: vxlanOf(100, toLocal),
      from: 6,
      run: fromTunnel('vxlan'),
      outPerFrame: { p2: 1 },
    },
    {
      name: 'GRE-in-UDP: port (ingress policed) → known remote VTEP (encap in place)',
      payload: rigFrame(REMOTE_VM, SENDER_VM),
      from: 4,
      run: fromPort('p4'),
      outPerFrame: { 'gre-udp': 1 },
    },
    {
      name: 'GRE-in-UDP: policed port → flood (2 ports, 1 egress-limited, 1 tagged, 2 VTEPs)',
      payload: rigFrame(0xffffffffffff, SENDER_VM),
      from: 4,
      run: fromPort('p4'),
      outPerFrame: { p5: 1, p3: 1, 'gre-udp': 2 },
    },
    {
      name: 'GRE-in-UDP: tunnel → local port (decap)',
      payload: greOf(200, toLocal),
      from: 4,
      run: fromTunnel('gre-udp'),
      outPerFrame: { p5: 1 },
    },
    {
      name: 'port security: an allowed source (MAC and IPv4) → known remote VTEP',
      payload: rigFrame(REMOTE_VM, SENDER_VM),
      from: 4,
      run: fromPort('p6'),
      outPerFrame: { vxlan: 1 },
    },
    {
      name: "provisional move: port → the claiming VTEP, and a copy to the controller's",
      payload: rigFrame(PROVISIONAL_VM, SENDER_VM),
      from: 4,
      run: fromPort('p7'),
      outPerFrame: { vxlan: 2 },
    },
    {
      name: 'ARP suppression: request for a bound IP → answered back out of its port',
      payload: buildArpRequest(SENDER_VM, SENDER_IP, LOCAL_VM_IP).subarray(0, 42),
      from: 4,
      run: fromPort('p1'),
      outPerFrame: { p1: 1 },
      rewritten: true,
    },
    {
      name: 'ND suppression: NS for a bound address → NA back out of its port',
      payload: neighborSolicitation(),
      from: 4,
      run: fromPort('p1'),
      outPerFrame: { p1: 1 },
      rewritten: true,
    },
    {
      name: 'ARP suppression: request for an unknown IP → flood (bindings learned and refreshed)',
      payload: buildArpRequest(SENDER_VM, SENDER_IP, parseIpv4Address('203.0.113.9') as number),
      from: 4,
      run: fromPort('p1'),
      outPerFrame: { p2: 1, p3: 1, vxlan: 2 },
    },
    {
      name: 'tunnel → garbage (dropped as malformed)',
      payload: Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
      from: 4,
      run: fromTunnel('vxlan'),
      outPerFrame: {},
    },
  ];
}

/** The flow tap of the flow export cases: sFlow at 1-in-1000 and an IPFIX cache, as an agent would set them. */
export function rigFlowTap(): FlowTap {
  const tap = new FlowTap();
  tap.cache = new FlowCache(1024);
  tap.sampler = new FlowSampler(1024, 128);
  tap.sampler.rate = 1000;
  return tap;
}

/** Runs `run` with the tap set, as the exporters see it: the sample ring drained after each batch. */
function withFlowTap(rig: PipelineRig, tap: FlowTap, run: (n: number) => void): (n: number) => void {
  return (n) => {
    rig.dp.setFlowTap(tap);
    run(n);
    rig.dp.setFlowTap(null);
    const sampler = tap.sampler as FlowSampler;
    sampler.tail = sampler.head;
  };
}

/** An untagged IPv4/UDP frame of `length` bytes (one flow: 203.0.113.1:5000 → 203.0.113.2:6000). */
export function udpFrame(dst: number, src: number, length = 114): Buffer {
  const f = rigFrame(dst, src, length);
  f.set([0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 203, 0, 113, 1, 203, 0, 113, 2], 14);
  f.writeUInt16BE(length - 14, 16);
  f.writeUInt16BE(5000, 34);
  f.writeUInt16BE(6000, 36);
  return f;
}

/** Loads `c.payload` into every slot of the rig's batch; returns the reset to call before each batch. */
export function loadCase(rig: PipelineRig, c: PipelineCase): () => void {
  const { batch } = rig;
  for (let i = 0; i < batch.capacity; i++) batch.buffer.set(c.payload, i * batch.slotSize + HEADROOM);
  const length = c.payload.length;
  if (c.rewritten === true) {
    return () => {
      for (let i = 0; i < batch.capacity; i++) {
        batch.buffer.set(c.payload, i * batch.slotSize + HEADROOM);
        batch.offsets[i] = HEADROOM;
        batch.lengths[i] = length;
      }
    };
  }
  return c.from === 4
    ? () => {
        for (let i = 0; i < batch.capacity; i++) {
          batch.offsets[i] = HEADROOM;
          batch.lengths[i] = length;
          batch.setIpv4Destination(i, PEER_B_NUMBER, 40000);
        }
      }
    : () => {
        for (let i = 0; i < batch.capacity; i++) {
          batch.offsets[i] = HEADROOM;
          batch.lengths[i] = length;
          batch.setIpv6Destination(i, PEER_V6, 40000);
        }
      };
}
