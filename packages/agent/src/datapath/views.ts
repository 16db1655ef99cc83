/**
 * JSON-ready views of the data path's tables, for the admin socket, metrics
 * and tests. Built on demand (allocation is fine here: never per frame).
 */
import type { Encap } from '@dvs/wire';
import type { TrafficCounters } from './counters.js';

export interface FdbEntryView {
  vni: number;
  mac: string;
  /** 'port' (local) or 'vtep' (remote). */
  kind: 'port' | 'vtep';
  /** Port name, or VTEP "address:port". */
  location: string;
  static: boolean;
  /** Entry set by the control plane (never ages until learning moves it). */
  control: boolean;
  seq: number;
  ageSeconds: number;
  moves: number;
}

export interface PortView {
  name: string;
  mode: 'access' | 'trunk';
  /** access: the VNI; trunk: null. */
  vni: number | null;
  /** trunk: VLAN → VNI. */
  vlans: Record<string, number>;
  device: string;
  mtu: number;
  counters: TrafficCounters;
}

export interface PeerView {
  vtep: string;
  address: string;
  port: number;
  /** VNIs that list it (peers, flood list or control FDB entries). */
  vnis: number[];
  /** VNIs whose flood list holds it. */
  floodVnis: number[];
  counters: TrafficCounters;
}

export interface NetworkView {
  vni: number;
  encap: Encap;
  mtu: number;
  ports: string[];
  floodList: string[];
  peers: string[];
  fdbSize: number;
}
