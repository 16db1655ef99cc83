/**
 * The per-frame pipeline: the hot path of the agent. Batch in, batch out; no
 * allocation per frame (MACs and addresses are read as small-integer halves
 * that key Maps without boxing, frames stay in their PacketBatch slot, tunnel
 * headers and VLAN tags are written in place in the headroom, flood copies go
 * to a preallocated batch; datapath-alloc.test.ts checks it: no GC over a
 * million frames). Bad input is dropped with a counted reason; nothing here
 * throws (datapath-fuzz.test.ts).
 *
 * A frame from a local port (switchFromPort):
 *  1. count rx on the port; shorter than an Ethernet header → `malformed`;
 *     beyond the port's ingress rate → `policed` (token-bucket.ts)
 *  2. classify: access → the port's VNI (a tagged frame → `tagged-on-access`);
 *     trunk → 802.1Q VLAN → VNI (untagged/unmapped → `unmapped-vlan`, QinQ →
 *     `qinq`), tag stripped in place
 *     a port that is a mirror's output sends nothing in → `mirror-output`
 *  3. the VNI's network (`unknown-vni`); ingress mirrors copy it (mirror.ts);
 *     payload > overlay MTU → `mtu`
 *  4. source MAC: group address → `bad-src-mac`; port security
 *     (port-security.ts: `port-security`, `arp-spoof`, `nd-spoof`,
 *     `mac-limit`); learn (vni, src) → port
 *  4b. ARP/ND (arp-responder.ts): IP bindings learned; with ARP suppression,
 *     a request for a bound IP is answered in place, back out of the port
 *  5. destination lookup; 5b. the flow tap, when flow export is on
 *     (flow-tap.ts: sFlow sampling, the IPFIX flow cache);
 *     group address or FDB miss → storm control
 *     (`storm-control`), then flood (7); FDB hit on a provisional move → a
 *     copy to its home too (fdb.ts); FDB hit →
 *     local port: the ingress port → `hairpin`, else queue it (tag pushed in
 *     place for a trunk); remote VTEP → (6)
 *  6. encap in place: tunnel header written into the headroom, the slot's UDP
 *     destination set to the VTEP, queued on the encap's socket
 *  7. flood: every other local member of the VNI (untagged: zero-copy ref;
 *     tagged: a copy with its tag), and one copy with its own header per VTEP
 *     of the VNI's flood list (head-end replication)
 *  (every frame queued to a local port is first copied by that port's and
 *  VNI's egress mirrors, before its tag is pushed)
 *  8. after the batch: every queue flushed (refs, then copies; beyond a
 *     port's egress rate → `policed`); what a device
 *     or socket refuses is dropped as `tx-full`, never queued; then the MAC
 *     events the batch caused (mac:local, mac:move, mac:gone) are delivered
 *
 * A packet from a tunnel socket (switchFromTunnel):
 *  1. tunnel header of the socket's encap (`malformed`)
 *  2. the VNI's network (`unknown-vni`), whose encap must be the socket's
 *     (`wrong-encap`); a mirror VNI's copy (RSPAN) goes, decapsulated, to
 *     its analyser port and nowhere else
 *  3. outer source address must be a known VTEP of the VNI (`unknown-vtep`);
 *     count rx on that peer
 *  4. decap in place (the slot now starts at the inner frame); inner shorter
 *     than an Ethernet header → `malformed`
 *  5. probe frames (PROBE_MAC, 0x88b5) go to the ProbeHandler, not switched
 *  6. MTU; source MAC (`bad-src-mac`); learn (vni, src) → the peer
 *  7. destination (the flow tap's IPFIX cache counts the frame here):
 *     group address or FDB miss → every local member of the VNI
 *     (never back into a tunnel: split horizon); local port (or the local
 *     home of a provisional move) → queue it; another VTEP → `remote-dst`
 *  8. flush as above
 *
 * `trace` runs a frame from a port through these same steps in a dry run
 * (dryRun() with a PipelineTracer, see trace.ts): drops are reported instead
 * of counted, learns are taken back, and the flush hands the queued frames to
 * the tracer instead of the devices.
 */
import { STAGE_JS_SWITCHED, markStage, type PacketBatch } from '@dvs/netdev';
import { ETHERNET_HEADER_LENGTH, VLAN_QINQ, VLAN_UNTAGGED, popVlanTag, readVlanId } from '@dvs/wire';
import type { Encap } from '@dvs/wire';
import type { Vtep } from './control-surface.js';
import type { DropCounters, DropReason } from './counters.js';
import { TUNNEL_HEADER_LENGTH, readTunnelVni } from './encap.js';
import { LearnResult, macHigh, macLow, type FdbEntry, type FdbLocation } from './fdb.js';
import { isGroupAt, macHighAt, macLowAt } from './frame-read.js';
import type { NetworkState } from './network.js';
import type { Peer } from './peer.js';
import type { Port } from './port.js';
import { countPortDrop, floodClassAt, overMacLimit, taggedOnAccess } from './port-ingress.js';
import { PROBE_ETHERTYPE, PROBE_MAC, type ProbeHandler } from './probe.js';
import type { StormClass } from './storm-control.js';
import { FrameCopier } from './frame-copy.js';
import { HEADROOM, SocketTarget, setDestination, type PipelineListener, type PipelineTracer } from './pipeline-io.js';
import { ArpResponder } from './arp-responder.js';
import { pushSlotTunnelHeader, pushSlotVlanTag } from './slot-headers.js';
import { MirrorTable } from './mirror.js';
import type { FlowTap } from './flow-tap.js';

export { HEADROOM, SocketTarget, type PipelineListener, type PipelineTracer };

const PROBE_MAC_HIGH = macHigh(PROBE_MAC);
const PROBE_MAC_LOW = macLow(PROBE_MAC);

export class Pipeline {
  readonly networks = new Map<number, NetworkState>();
  readonly ports = new Map<string, Port>();
  readonly sockets = new Map<Encap, SocketTarget>();
  probeHandler: ProbeHandler | null = null;
  readonly mirrors = new MirrorTable();
  /** sFlow sampling and the IPFIX flow cache (flow-tap.ts); null: flow export off. */
  flowTap: FlowTap | null = null;
  /** Set only while dryRun() runs. */
  private tracer: PipelineTracer | null = null;
  private source: PacketBatch | null = null;
  private copyUsed = 0;
  private readonly copier = new FrameCopier();
  private readonly responder: ArpResponder;
  /** allocCopy() as a function made once, for the mirror table (no closure per frame). */
  private readonly allocSlot = (): number => this.allocCopy();
  // Memo of the previous frame's lookups. A bulk flow repeats the same VNI,
  // source and destination frame after frame; a repeat then skips the
  // network, learn, FDB and socket Map lookups. Valid only while the tables
  // are as they were read: forgotten at every batch start, after any learn
  // that adds, moves or evicts an entry, after a probe is handed over (its
  // handler may change tables), and on abandonBatch().
  private memoVni = -1;
  private memoNet: NetworkState | undefined = undefined;
  private memoSrcHigh = -1;
  private memoSrcLow = -1;
  private memoSrcAt: FdbLocation | null = null;
  private memoDstHigh = -1;
  private memoDstLow = -1;
  private memoDst: FdbEntry | undefined = undefined;
  private memoEncap: Encap | null = null;
  private memoTarget: SocketTarget | undefined = undefined;

  constructor(
    readonly copyBatch: PacketBatch,
    readonly drops: DropCounters,
    private readonly now: () => number,
    private readonly listener: PipelineListener,
  ) {
    this.responder = new ArpResponder(listener);
  }

  /** Switches frames 0..n-1 of `batch`, read from `port` at HEADROOM, and flushes the output. */
  processPortBatch(port: Port, batch: PacketBatch, n: number): void {
    const now = this.now();
    this.source = batch;
    this.forgetMemo();
    for (let i = 0; i < n; i++) this.switchFromPort(port, batch, i, now);
    markStage(STAGE_JS_SWITCHED);
    this.flushAll();
    this.source = null;
  }

  /**
   * Switches packets first..n-1 of `batch` (at most the receive batch's
   * capacity of them: the output queues hold that many), received on
   * `target`'s socket, and flushes the output. A packet sits at HEADROOM,
   * or at 0 in a view of a super-datagram (super-datagram-receive.ts): only
   * its own tunnel header lies in front of the frame then, and switching
   * writes no more than that (an 802.1Q tag) in front of a decapsulated frame.
   */
  processTunnelBatch(target: SocketTarget, batch: PacketBatch, n: number, first = 0): void {
    const now = this.now();
    this.source = batch;
    this.forgetMemo();
    for (let i = first; i < n; i++) this.switchFromTunnel(target, batch, i, now);
    markStage(STAGE_JS_SWITCHED);
    this.flushAll();
    this.source = null;
  }

  /**
   * Switches frame 0 of `batch` from `port` exactly as processPortBatch does,
   * as a dry run witnessed by `tracer` (nothing counted but the port's rx,
   * which the caller restores; learns to be taken back; nothing sent).
   */
  dryRun(port: Port, batch: PacketBatch, tracer: PipelineTracer): void {
    this.tracer = tracer;
    try {
      this.processPortBatch(port, batch, 1);
    } finally {
      this.tracer = null;
      this.abandonBatch();
    }
  }

  /** Forgets everything queued for the current batch (after an exception). */
  abandonBatch(): void {
    for (const port of this.ports.values()) port.tx.nRefs = port.tx.nCopies = 0;
    for (const target of this.sockets.values()) target.tx.nRefs = target.tx.nCopies = 0;
    this.copyUsed = 0;
    this.source = null;
    this.forgetMemo();
  }

  private forgetMemo(): void {
    this.memoVni = -1;
    this.memoNet = undefined;
    this.memoEncap = null;
    this.memoTarget = undefined;
    this.forgetMacs();
  }

  private forgetMacs(): void {
    this.memoSrcHigh = this.memoSrcLow = this.memoDstHigh = this.memoDstLow = -1;
    this.memoSrcAt = null;
    this.memoDst = undefined;
  }

  /** networks.get(vni), memoized; a different VNI also forgets the MAC memo (it is per network). */
  private networkOf(vni: number): NetworkState | undefined {
    if (vni !== this.memoVni) {
      this.memoVni = vni;
      this.memoNet = this.networks.get(vni);
      this.forgetMacs();
    }
    return this.memoNet;
  }

  /** The FDB entry of a unicast destination in the memo's network, memoized (misses too). */
  private lookupDst(net: NetworkState, high: number, low: number): FdbEntry | undefined {
    if (high !== this.memoDstHigh || low !== this.memoDstLow) {
      this.memoDst = net.fdb.lookupHalves(high, low);
      this.memoDstHigh = high;
      this.memoDstLow = low;
    }
    return this.memoDst;
  }

  private targetOf(encap: Encap): SocketTarget | undefined {
    if (encap !== this.memoEncap) {
      this.memoEncap = encap;
      this.memoTarget = this.sockets.get(encap);
    }
    return this.memoTarget;
  }

  private drop(reason: DropReason): void {
    if (this.tracer !== null) return this.tracer.dropped(reason);
    this.drops[reason]++;
  }

  /** A drop charged to the port it came from too (port security, L2 hygiene). */
  private dropAt(port: Port, reason: DropReason, storm?: StormClass): void {
    if (this.tracer === null) countPortDrop(port, reason, storm);
    this.drop(reason);
  }

  private switchFromPort(port: Port, batch: PacketBatch, i: number, now: number): void {
    const buf = batch.buffer;
    let off = batch.start(i);
    let len = batch.lengths[i];
    port.counters.rxFrames++;
    port.counters.rxBytes += len;
    if (len < ETHERNET_HEADER_LENGTH) return this.drop('malformed');
    if (this.mirrors.active && this.mirrors.isOutput(port)) return this.drop('mirror-output');
    const policer = port.ingressPolicer;
    if (policer !== null && this.tracer === null && !policer.take(len, now)) return this.drop('policed');
    let vni = port.accessVni;
    if (vni < 0) {
      const vid = readVlanId(buf, off, len);
      if (vid === VLAN_QINQ) return this.drop('qinq');
      if (vid < VLAN_UNTAGGED) return this.drop('malformed');
      const mapped = vid === VLAN_UNTAGGED ? undefined : port.vlanToVni.get(vid);
      if (mapped === undefined) return this.drop('unmapped-vlan');
      vni = mapped;
      off = popVlanTag(buf, off, len);
      if (off < 0) return this.drop('malformed');
      len -= 4;
      batch.offsets[i] += 4;
      batch.lengths[i] = len;
    } else if (taggedOnAccess(buf, off)) return this.dropAt(port, 'tagged-on-access');
    if (this.tracer !== null) this.tracer.classified(vni);
    const net = this.networkOf(vni);
    if (net === undefined) return this.drop('unknown-vni');
    if (this.mirrors.active && this.tracer === null) this.mirror(port, vni, batch, i, true);
    if (len - ETHERNET_HEADER_LENGTH > net.spec.mtu) return this.drop('mtu');
    if (isGroupAt(buf, off + 6)) return this.drop('bad-src-mac');
    const guard = port.guard;
    if (guard !== null) {
      const refused = guard.check(buf, off, len);
      if (refused !== null) return this.dropAt(port, refused);
      if (overMacLimit(guard, net.fdb, port, buf, off)) return this.dropAt(port, 'mac-limit');
    }
    this.learn(net, macHighAt(buf, off + 6), macLowAt(buf, off + 6), port, true, now);
    const answer = this.responder.handle(net, port, buf, off, len, now, this.tracer !== null);
    if (answer > 0) {
      batch.lengths[i] = answer;
      return this.queueLocalRef(port, net.vni, batch, i);
    }
    const entry = isGroupAt(buf, off) ? undefined : this.lookupDst(net, macHighAt(buf, off), macLowAt(buf, off));
    if (this.tracer !== null) this.tracer.lookedUp(entry);
    else if (this.flowTap !== null) this.tapFromPort(this.flowTap, net, port, buf, off, len, entry, now);
    if (entry === undefined) {
      if (guard !== null && guard.storm !== null) {
        const c = floodClassAt(buf, off);
        if (!guard.storm.admit(c, now)) return this.dropAt(port, 'storm-control', c);
      }
      return this.floodFromPort(net, port, batch, i);
    }
    if (entry.home !== null) this.copyHome(net, entry, port, batch, i);
    if (entry.local) {
      const out = entry.location as Port;
      if (out === port) return this.drop('hairpin');
      return this.queueLocalRef(out, net.vni, batch, i);
    }
    this.queueTunnelRef(net, entry.location as Peer, batch, i);
  }

  /** Step 5b: the flow tap sees the frame with its output: a port, a VTEP, or a flood to so many. */
  private tapFromPort(
    tap: FlowTap,
    net: NetworkState,
    port: Port,
    buf: Uint8Array,
    off: number,
    len: number,
    entry: FdbEntry | undefined,
    now: number,
  ): void {
    if (entry !== undefined) return tap.fromPort(port, net, buf, off, len, entry.location, 1, now);
    tap.fromPort(port, net, buf, off, len, null, net.members.length - 1 + net.floodList.peers.length, now);
  }

  private switchFromTunnel(target: SocketTarget, batch: PacketBatch, i: number, now: number): void {
    const buf = batch.buffer;
    const start = batch.start(i);
    const len = batch.lengths[i];
    const vni = readTunnelVni(target.encap, buf, start, len);
    if (vni < 0) return this.drop('malformed');
    const net = this.networkOf(vni);
    if (net === undefined) {
      if (this.mirrors.active) return this.toMirrorSink(vni, batch, i);
      return this.drop('unknown-vni');
    }
    if (net.spec.encap !== target.encap) return this.drop('wrong-encap');
    const family = batch.family[i];
    const peer =
      family === 4
        ? net.knownVteps.getHalves(batch.ipv4[i] >>> 16, batch.ipv4[i] & 0xffff)
        : family === 6
          ? net.knownVteps.getV6(batch.ipv6, i * 16)
          : undefined;
    if (peer === undefined) return this.probeFromOtherVni(vni, batch, i);
    peer.counters.rxFrames++;
    peer.counters.rxBytes += len;
    const off = start + TUNNEL_HEADER_LENGTH;
    const flen = len - TUNNEL_HEADER_LENGTH;
    if (flen < ETHERNET_HEADER_LENGTH) return this.drop('malformed');
    batch.offsets[i] += TUNNEL_HEADER_LENGTH;
    batch.lengths[i] = flen;
    const dstHigh = macHighAt(buf, off);
    const dstLow = macLowAt(buf, off);
    if (
      dstLow === PROBE_MAC_LOW &&
      dstHigh === PROBE_MAC_HIGH &&
      ((buf[off + 12] << 8) | buf[off + 13]) === PROBE_ETHERTYPE
    ) {
      return this.divertProbe(peer.vtep, vni, batch, off, flen);
    }
    if (flen - ETHERNET_HEADER_LENGTH > net.spec.mtu) return this.drop('mtu');
    if (isGroupAt(buf, off + 6)) return this.drop('bad-src-mac');
    this.learn(net, macHighAt(buf, off + 6), macLowAt(buf, off + 6), peer, false, now);
    const entry = isGroupAt(buf, off) ? undefined : this.lookupDst(net, dstHigh, dstLow);
    if (this.flowTap !== null) this.flowTap.fromTunnel(peer, net, buf, off, flen, entry?.location ?? null, now);
    if (entry === undefined) return this.floodToMembers(net, null, batch, i);
    if (!entry.local) {
      // A MAC moved provisionally away from a local port is still delivered there.
      if (entry.home !== null && entry.homeLocal) return this.queueLocalRef(entry.home as Port, vni, batch, i);
      return this.drop('remote-dst');
    }
    this.queueLocalRef(entry.location as Port, vni, batch, i);
  }

  private learn(
    net: NetworkState,
    high: number,
    low: number,
    location: Port | Peer,
    local: boolean,
    now: number,
  ): void {
    // A repeat of the memoized source within this batch: learning it again would only set lastSeen to the same `now`.
    if (high === this.memoSrcHigh && low === this.memoSrcLow && location === this.memoSrcAt) return;
    if (this.tracer !== null) return this.learnInDryRun(this.tracer, net, high, low, location, local, now);
    const fdb = net.fdb;
    const result = fdb.learnHalves(high, low, location, local, now);
    if (result === LearnResult.Refreshed || result === LearnResult.Ignored || result === LearnResult.Held) {
      this.memoSrcHigh = high;
      this.memoSrcLow = low;
      this.memoSrcAt = location;
      if (result === LearnResult.Held)
        this.listener.conflict(net, fdb.lookupHalves(high, low) as FdbEntry, location as Peer, 'held');
      return;
    }
    if (result === LearnResult.Refused) return;
    // The table changed: nothing memoized holds.
    this.forgetMemo();
    const evicted = fdb.lastEvicted;
    const movedFrom = fdb.lastMovedFrom;
    const entry = fdb.lookupHalves(high, low);
    if (entry === undefined) return;
    if (evicted !== null) this.listener.evicted(net, evicted.mac, evicted.location);
    if (result === LearnResult.Reclaimed) this.listener.conflict(net, entry, movedFrom as Peer, 'reverted');
    if (local) this.listener.learnedLocal(net, entry.mac, location as Port, entry.seq, movedFrom);
    else this.listener.learnedRemote(net, entry.mac, location as Peer, movedFrom);
  }

  /** learn() in a dry run: the same FDB learn, reported to the tracer and taken back by it later. */
  private learnInDryRun(
    tracer: PipelineTracer,
    net: NetworkState,
    high: number,
    low: number,
    location: Port | Peer,
    local: boolean,
    now: number,
  ): void {
    const prior = net.fdb.lookupHalves(high, low);
    const before = prior === undefined ? null : { location: prior.location, seq: prior.seq, isStatic: prior.isStatic };
    const { result, undo } = net.fdb.learnReversibly(high, low, location, local, now);
    this.forgetMemo();
    tracer.learned(result, before, net.fdb.lookupHalves(high, low), undo);
  }

  /**
   * The unknown-VTEP path. A tunnel probe tests the path between two hosts, not
   * one VNI: its sender may have just left this VNI's flood list (its last VM
   * there migrated away) while the path itself is fine. So a probe frame from
   * an address known in any network is still handed over, as coming from its
   * real source port (the reply must go back over the encap it came in on);
   * every other frame is dropped as unknown-vtep. Off the hot path: only
   * frames from VTEPs unknown to the VNI come here.
   */
  private probeFromOtherVni(vni: number, batch: PacketBatch, i: number): void {
    const buf = batch.buffer;
    const off = batch.start(i) + TUNNEL_HEADER_LENGTH;
    const flen = batch.lengths[i] - TUNNEL_HEADER_LENGTH;
    const isProbe =
      flen >= ETHERNET_HEADER_LENGTH &&
      macLowAt(buf, off) === PROBE_MAC_LOW &&
      macHighAt(buf, off) === PROBE_MAC_HIGH &&
      ((buf[off + 12] << 8) | buf[off + 13]) === PROBE_ETHERTYPE;
    if (!isProbe) return this.drop('unknown-vtep');
    const family = batch.family[i];
    for (const net of this.networks.values()) {
      const peer =
        family === 4
          ? net.knownVteps.getHalves(batch.ipv4[i] >>> 16, batch.ipv4[i] & 0xffff)
          : family === 6
            ? net.knownVteps.getV6(batch.ipv6, i * 16)
            : undefined;
      if (peer === undefined) continue;
      batch.offsets[i] += TUNNEL_HEADER_LENGTH;
      batch.lengths[i] = flen;
      const source = peer.vtep.port === batch.port[i] ? peer.vtep : { address: peer.vtep.address, port: batch.port[i] };
      return this.divertProbe(source, vni, batch, off, flen);
    }
    return this.drop('unknown-vtep');
  }

  private divertProbe(source: Vtep, vni: number, batch: PacketBatch, off: number, len: number): void {
    const handler = this.probeHandler;
    if (handler === null) return this.drop('probe-unhandled');
    try {
      handler(source, vni, batch.buffer.subarray(off, off + len));
    } catch {
      // A failing probe handler must not stop the data path.
    }
    this.forgetMemo();
  }

  /**
   * Copies frame `i` (untagged, classified into `vni`) to the outputs of the
   * mirrors of `port` and of `vni` in one direction; a mirror selecting it by
   * both copies it once.
   */
  private mirror(port: Port, vni: number, batch: PacketBatch, i: number, ingress: boolean): void {
    const m = this.mirrors;
    const vlan = port.vniToVlan.get(vni) ?? -1;
    const byPort = (ingress ? m.portIngress : m.portEgress).get(port);
    if (byPort !== undefined) m.copy(byPort, null, batch, i, vlan, this.copyBatch, this.allocSlot);
    const byVni = (ingress ? m.vniIngress : m.vniEgress).get(vni);
    if (byVni !== undefined) m.copy(byVni, byPort ?? null, batch, i, vlan, this.copyBatch, this.allocSlot);
  }

  /** RSPAN, receive side: a packet of a mirror VNI goes, decapsulated, to its analyser port (zero copy). */
  private toMirrorSink(vni: number, batch: PacketBatch, i: number): void {
    const port = this.mirrors.sinks.get(vni);
    if (port === undefined) return this.drop('unknown-vni');
    const flen = batch.lengths[i] - TUNNEL_HEADER_LENGTH;
    if (flen < ETHERNET_HEADER_LENGTH) return this.drop('malformed');
    batch.offsets[i] += TUNNEL_HEADER_LENGTH;
    batch.lengths[i] = flen;
    this.mirrors.delivered(vni, flen);
    port.tx.addRef(i, null);
  }

  /** Unicast to a local port: zero copy; a trunk port gets its tag pushed in place. */
  private queueLocalRef(port: Port, vni: number, batch: PacketBatch, i: number): void {
    const vlan = port.vniToVlan.get(vni);
    if (vlan === undefined) return this.drop('unknown-vni');
    if (this.mirrors.active && this.tracer === null) this.mirror(port, vni, batch, i, false);
    if (vlan >= 0 && !pushSlotVlanTag(batch, i, vlan)) return this.drop('malformed');
    port.tx.addRef(i, null);
  }

  /** Unicast to a remote VTEP: tunnel header written in place, slot addressed to the VTEP. */
  private queueTunnelRef(net: NetworkState, peer: Peer, batch: PacketBatch, i: number): void {
    const target = this.targetOf(net.spec.encap);
    if (target === undefined) return this.drop('no-socket');
    pushSlotTunnelHeader(batch, i, net.spec.encap, net.vni);
    setDestination(batch, i, peer);
    target.stampSourcePort(batch, i, TUNNEL_HEADER_LENGTH);
    target.tx.addRef(i, peer);
  }

  private floodFromPort(net: NetworkState, inPort: Port, batch: PacketBatch, i: number): void {
    this.floodToMembers(net, inPort, batch, i);
    const peers = net.floodList.peers;
    if (peers.length === 0) return;
    if (this.targetOf(net.spec.encap) === undefined) return this.drop('no-socket');
    for (let k = 0; k < peers.length; k++) this.copyToPeer(net, peers[k], batch, i);
  }

  /** Every local member of the VNI except `inPort`: untagged ones share the slot, tagged ones get a copy. */
  private floodToMembers(net: NetworkState, inPort: Port | null, batch: PacketBatch, i: number): void {
    const members = net.members;
    for (let k = 0; k < members.length; k++) {
      const m = members[k];
      if (m.port === inPort) continue;
      if (this.mirrors.active && this.tracer === null) this.mirror(m.port, net.vni, batch, i, false);
      if (m.vlan < 0) m.port.tx.addRef(i, null);
      else this.copyToPort(m.port, m.vlan, batch, i);
    }
  }

  /** A copy of frame `i` with its own tunnel header, to `peer`. */
  private copyToPeer(net: NetworkState, peer: Peer, batch: PacketBatch, i: number): void {
    const target = this.targetOf(net.spec.encap);
    if (target === undefined) return this.drop('no-socket');
    const c = this.allocCopy();
    const copy = this.copyBatch;
    this.copier.copy(batch, i, copy, c, HEADROOM);
    pushSlotTunnelHeader(copy, c, net.spec.encap, net.vni);
    setDestination(copy, c, peer);
    target.stampSourcePort(copy, c, TUNNEL_HEADER_LENGTH);
    target.tx.addCopy(c, peer);
  }

  /** A copy of frame `i` to a local port, tagged with `vlan` (-1: untagged). */
  private copyToPort(port: Port, vlan: number, batch: PacketBatch, i: number): void {
    const c = this.allocCopy();
    const copy = this.copyBatch;
    this.copier.copy(batch, i, copy, c, HEADROOM);
    if (vlan >= 0 && !pushSlotVlanTag(copy, c, vlan)) return this.drop('malformed');
    port.tx.addCopy(c, null);
  }

  /** A provisional move (fdb.ts): the controller's location (or the local port) gets a copy until it is decided. */
  private copyHome(net: NetworkState, entry: FdbEntry, inPort: Port, batch: PacketBatch, i: number): void {
    const home = entry.home as FdbLocation;
    if (!entry.homeLocal) return this.copyToPeer(net, home as Peer, batch, i);
    const vlan = (home as Port).vniToVlan.get(net.vni);
    if (home === inPort || vlan === undefined) return;
    if (this.mirrors.active && this.tracer === null) this.mirror(home as Port, net.vni, batch, i, false);
    this.copyToPort(home as Port, vlan, batch, i);
  }

  /** A free slot of the copy batch; when it is full, everything queued so far is flushed first. */
  private allocCopy(): number {
    if (this.copyUsed === this.copyBatch.capacity) this.flushAll();
    return this.copyUsed++;
  }

  private flushAll(): void {
    const source = this.source;
    if (source === null) return;
    if (this.tracer !== null) return this.handOverToTracer(this.tracer, source);
    for (const port of this.ports.values()) {
      if (!port.tx.pending) continue;
      if (port.egressPolicer !== null)
        this.drops.policed += port.tx.police(port.egressPolicer, source, this.copyBatch, this.now());
      const refused = port.tx.flush(source, this.copyBatch, port.device, port.counters);
      this.drops['tx-full'] += refused;
    }
    for (const target of this.sockets.values()) {
      if (!target.tx.pending) continue;
      this.drops['tx-full'] += target.tx.flush(source, this.copyBatch, target, null);
    }
    this.copyUsed = 0;
  }

  /** flushAll() of a dry run: what each queue holds goes to the tracer, not the device. */
  private handOverToTracer(tracer: PipelineTracer, source: PacketBatch): void {
    const targets: (Port | SocketTarget)[] = [...this.ports.values(), ...this.sockets.values()];
    for (const target of targets) {
      const tx = target.tx;
      for (let k = 0; k < tx.nRefs; k++) tracer.output(target, source, tx.refs[k], tx.refPeers[k]);
      for (let k = 0; k < tx.nCopies; k++) tracer.output(target, this.copyBatch, tx.copies[k], tx.copyPeers[k]);
      tx.nRefs = tx.nCopies = 0;
    }
    this.copyUsed = 0;
  }
}
