/**
 * The pipeline's hook for flow export: where sFlow sampling and the IPFIX
 * flow cache see frames. The pipeline calls it once per switched frame, after
 * the destination lookup (so the output is known), only while a tap is set;
 * with no tap the cost is one null check per frame.
 *
 *  - fromPort: a frame from a local port. sFlow: the port's countdown
 *    (flow-samples.ts); IPFIX: the flow cache (flow-cache.ts).
 *  - fromTunnel: a decapsulated frame from a peer VTEP. IPFIX only: sFlow
 *    samples at the ingress of ports, so each frame is sampled once in the
 *    cluster, by the host whose port it entered.
 *
 * A network whose spec turns an exporter off (`flowExport`, read with
 * @dvs/wire's networkFlowExport: absent = both on) is skipped by it: a field
 * read on the network's spec per frame.
 *
 * Ports and peers are passed as objects (Port, Peer); the exporters give them
 * interface numbers off the frame loop. Nothing here allocates per frame.
 */
import type { FlowCache, FlowEndpoint } from './flow-cache.js';
import type { FlowSampler, PortSampling } from './flow-samples.js';
import { networkFlowExport } from '@dvs/wire';
import type { NetworkState } from './network.js';

/** What the tap reads of a frame's network: its VNI and its spec's flowExport. */
export type FlowTapNetwork = Pick<NetworkState, 'vni' | 'spec'>;

export class FlowTap {
  /** IPFIX's cache; null: IPFIX off. */
  cache: FlowCache | null = null;
  /** sFlow's sampler; null (or rate 0): sFlow off. */
  sampler: FlowSampler | null = null;
  private lastPort: object | null = null;
  private lastSampling: PortSampling | null = null;

  fromPort(
    port: object,
    net: FlowTapNetwork,
    buf: Uint8Array,
    off: number,
    len: number,
    output: FlowEndpoint,
    outputCount: number,
    now: number,
  ): void {
    const sampler = this.sampler;
    if (sampler !== null && sampler.rate > 0 && networkFlowExport(net.spec).sflow) {
      // Frames come in batches from one port: one Map lookup per port change.
      let s = this.lastSampling;
      if (port !== this.lastPort || s === null) {
        s = sampler.stateOf(port);
        this.lastPort = port;
        this.lastSampling = s;
      }
      s.pool++;
      if (--s.skip <= 0) {
        s.skip = sampler.nextSkip();
        sampler.take(s, net.vni, buf, off, len, port, output, outputCount);
      }
    }
    const cache = this.cache;
    if (cache !== null && networkFlowExport(net.spec).ipfix) cache.count(net.vni, buf, off, len, port, output, now);
  }

  fromTunnel(
    peer: object,
    net: FlowTapNetwork,
    buf: Uint8Array,
    off: number,
    len: number,
    output: FlowEndpoint,
    now: number,
  ): void {
    const cache = this.cache;
    if (cache !== null && networkFlowExport(net.spec).ipfix) cache.count(net.vni, buf, off, len, peer, output, now);
  }

  /** Forgets the memoized port (its sampler changed or the port went). */
  reset(): void {
    this.lastPort = null;
    this.lastSampling = null;
  }
}
