/**
 * The thin adapter from the data path's probe hook (datapath/probe.ts:
 * setProbeHandler + sendProbe) to the monitor's ProbeTransport.
 *
 * The data path reports a refused send as `false` without the errno; the
 * adapter then throws `ESENDFAILED` (reason `send failed`). When the data
 * path can tell why (`lastProbeSendError()` returning an errno code such as
 * ENETUNREACH), that code is used instead and the reason becomes `no route`.
 */
import type { Encap } from '@dvs/wire';
import type { Vtep } from '../datapath/control-surface.js';
import type { ProbeHandler, ProbeTarget } from '../datapath/probe.js';
import type { ProbeSource, ProbeTransport, TunnelPeer } from './probe-transport.js';

/** The part of the DataPath the adapter uses (structural, so tests can fake it). */
export interface ProbeCapableDataPath {
  setProbeHandler(handler: ProbeHandler | null): void;
  sendProbe(target: ProbeTarget, frame: Uint8Array): boolean;
  lastProbeSendError?(): string | null;
}

export class ProbeSendError extends Error {
  override readonly name = 'ProbeSendError';
  constructor(
    readonly code: string,
    peer: Vtep,
  ) {
    super(`probe to ${peer.address}:${peer.port} not sent (${code})`);
  }
}

/**
 * `encapOf(vni)` says which encap a VNI uses (the network's), so a received
 * probe's source carries it; probes on an unknown VNI are ignored.
 */
export function dataPathProbeTransport(
  dataPath: ProbeCapableDataPath,
  encapOf: (vni: number) => Encap | undefined,
  probePortOf?: (vtep: Vtep) => number | null | undefined,
): ProbeTransport {
  return {
    send(peer: TunnelPeer, frame: Uint8Array): void {
      // A probe port stands in for the VXLAN port only (a kernel-provider host's vxlan devices own it).
      const probePort = peer.encap === 'vxlan' ? probePortOf?.(peer.vtep) : undefined;
      const target = { vtep: peer.vtep, encap: peer.encap, vni: peer.vni };
      if (dataPath.sendProbe(probePort === undefined ? target : { ...target, probePort }, frame)) return;
      throw new ProbeSendError(dataPath.lastProbeSendError?.() ?? 'ESENDFAILED', peer.vtep);
    },
    onReceive(handler: ((source: ProbeSource, frame: Uint8Array) => void) | null): void {
      if (handler === null) {
        dataPath.setProbeHandler(null);
        return;
      }
      dataPath.setProbeHandler((peer, vni, frame) => {
        const encap = encapOf(vni);
        if (encap === undefined) return;
        handler({ address: peer.address, port: peer.port, encap, vni }, frame);
      });
    },
  };
}
