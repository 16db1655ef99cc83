/**
 * Interface numbers for flow export. sFlow and IPFIX name interfaces by
 * number (ifIndex); the data path has ports (by name) and peer VTEPs. Ports
 * get 1, 2, 3, … in the order export first sees them; VTEPs get
 * VTEP_INDEX_BASE + 1, + 2, … (IPFIX marks them with ifType 131, tunnel).
 * Numbers stay stable while the agent runs; `flows/show` and the exporters'
 * views translate them back.
 */
import { Port } from '../datapath/index.js';
import { Peer } from '../datapath/index.js';
import { IF_TYPE_ETHERNET, IF_TYPE_TUNNEL } from '@dvs/wire';

/** First number of the VTEP range (sFlow's source id index has 24 bits: ports stay below it). */
export const VTEP_INDEX_BASE = 0x1000000;

export type FlowEndpointView = { kind: 'port'; port: string } | { kind: 'vtep'; vtep: string } | { kind: 'flood' };

export class InterfaceIndex {
  private readonly ports = new Map<string, number>();
  private readonly vteps = new Map<string, number>();
  private readonly names = new Map<number, FlowEndpointView>();

  portIndex(name: string): number {
    let n = this.ports.get(name);
    if (n === undefined) {
      n = this.ports.size + 1;
      this.ports.set(name, n);
      this.names.set(n, { kind: 'port', port: name });
    }
    return n;
  }

  vtepIndex(id: string): number {
    let n = this.vteps.get(id);
    if (n === undefined) {
      n = VTEP_INDEX_BASE + this.vteps.size + 1;
      this.vteps.set(id, n);
      this.names.set(n, { kind: 'vtep', vtep: id });
    }
    return n;
  }

  /** The number of a flow endpoint (a Port, a Peer; null, a flood: 0). */
  of(endpoint: object | null): number {
    if (endpoint instanceof Port) return this.portIndex(endpoint.name);
    if (endpoint instanceof Peer) return this.vtepIndex(endpoint.id);
    return 0;
  }

  typeOf(endpoint: object | null): number {
    if (endpoint instanceof Port) return IF_TYPE_ETHERNET;
    if (endpoint instanceof Peer) return IF_TYPE_TUNNEL;
    return 0;
  }

  view(endpoint: object | null): FlowEndpointView {
    if (endpoint instanceof Port) return { kind: 'port', port: endpoint.name };
    if (endpoint instanceof Peer) return { kind: 'vtep', vtep: endpoint.id };
    return { kind: 'flood' };
  }

  /** Every numbered interface (for `sflow/show`, `ipfix/show`). */
  all(): { index: number; interface: FlowEndpointView }[] {
    return [...this.names].map(([index, view]) => ({ index, interface: view }));
  }
}
