/**
 * The controller's mirrors (`mirrors/<name>`) as this host's data path takes
 * them (datapath/mirror.ts):
 *  - a mirror with a source here (one of its ports on this host, or any VNI)
 *    copies to its output port when that port is on this host (SPAN), or
 *    else inside its mirror VNI to the output host's VTEP (RSPAN; a mirror
 *    without a VNI has no copies to send from here);
 *  - a mirror whose output is on this host and has a mirror VNI makes that
 *    port the analyser of the VNI: copies from other hosts arrive there.
 * An output host that has no host record (not up) gets no copies until it is.
 */
import { hostVtepFor, parseMac, type HostRecord, type MirrorRecord } from '@dvs/wire';
import type { MirrorConfig, MirrorSinkSpec, MirrorSpec } from '../datapath/index.js';

export function mirrorConfigFor(
  self: string,
  mirrors: Iterable<MirrorRecord>,
  hosts: ReadonlyMap<string, HostRecord>,
): MirrorConfig {
  const specs: MirrorSpec[] = [];
  const sinks: MirrorSinkSpec[] = [];
  for (const m of [...mirrors].sort((a, b) => a.name.localeCompare(b.name))) {
    const outputHere = m.output.host === self;
    if (outputHere && m.vni !== undefined && !sinks.some((s) => s.vni === m.vni))
      sinks.push({ vni: m.vni, port: m.output.port });
    const sourcePorts = m.sourcePorts.filter((p) => p.host === self).map((p) => p.port);
    if (sourcePorts.length === 0 && m.sourceVnis.length === 0) continue;
    let output: MirrorSpec['output'];
    if (outputHere) output = { port: m.output.port };
    else {
      const host = hosts.get(m.output.host);
      if (m.vni === undefined || host === undefined) continue;
      const encap = m.encap ?? 'vxlan';
      output = { vni: m.vni, encap, vtep: hostVtepFor(host, encap) };
    }
    const spec: MirrorSpec = {
      name: m.name,
      sourcePorts,
      sourceVnis: m.sourceVnis,
      direction: m.direction,
      sampleEvery: m.sampleEvery,
      output,
    };
    if (m.srcMac !== undefined) spec.srcMac = parseMac(m.srcMac) as number;
    if (m.dstMac !== undefined) spec.dstMac = parseMac(m.dstMac) as number;
    if (m.vlan !== undefined) spec.vlan = m.vlan;
    specs.push(spec);
  }
  return { mirrors: specs, sinks };
}
