import type { AgentNetworkView } from '@dvs/wire';
import type { CountersSnapshot } from '../datapath/counters.js';

/**
 * Prometheus text exposition (format 0.0.4) of the data path's counters.
 * Names: dvs_agent_*; labels say which port, peer, reason or VNI.
 */
export function renderMetrics(host: string, counters: CountersSnapshot, extra: readonly string[] = []): string {
  const out: string[] = [];
  const family = (name: string, type: 'counter' | 'gauge', help: string): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  };
  const h = `host="${escape(host)}"`;
  family('dvs_agent_drops_total', 'counter', 'Frames and packets dropped by the data path, by reason.');
  for (const [reason, n] of Object.entries(counters.drops))
    out.push(`dvs_agent_drops_total{${h},reason="${reason}"} ${n}`);
  family('dvs_agent_fdb_entries', 'gauge', 'FDB entries per VNI.');
  for (const [vni, n] of Object.entries(counters.fdb.sizeByVni))
    out.push(`dvs_agent_fdb_entries{${h},vni="${vni}"} ${n}`);
  for (const [key, help] of [
    ['learns', 'MACs learned'],
    ['moves', 'MACs moved to another port or VTEP'],
    ['evictions', 'FDB entries evicted by the size limit'],
    ['aged', 'FDB entries aged out'],
    ['refused', 'learns refused by a table full of static entries'],
    ['provisional', "tunnel claims moved provisionally against the controller's entry"],
    ['confirmed', 'provisional moves the controller confirmed in time'],
    ['learnConflicts', 'tunnel claims reverted or held off (learn-conflict)'],
    ['claimsIgnored', 'further claims of a VTEP already rejected for that MAC'],
  ] as const) {
    family(`dvs_agent_fdb_${snake(key)}_total`, 'counter', `FDB: ${help}.`);
    out.push(`dvs_agent_fdb_${snake(key)}_total{${h}} ${counters.fdb[key]}`);
  }
  family('dvs_agent_port_security_drops_total', 'counter', 'Per port: drops by port security and L2 hygiene.');
  for (const [port, c] of Object.entries(counters.portSecurity))
    for (const [reason, n] of Object.entries(c))
      out.push(`dvs_agent_port_security_drops_total{${h},port="${escape(port)}",reason="${snake(reason)}"} ${n}`);
  family('dvs_agent_table_changes_rejected_total', 'counter', 'Table changes the data path rejected.');
  out.push(`dvs_agent_table_changes_rejected_total{${h}} ${counters.rejectedChanges}`);
  family('dvs_agent_internal_errors_total', 'counter', 'Batches abandoned because switching threw (a bug).');
  out.push(`dvs_agent_internal_errors_total{${h}} ${counters.internalErrors}`);
  family('dvs_agent_event_listener_errors_total', 'counter', 'MAC event listeners that threw (after their batch).');
  out.push(`dvs_agent_event_listener_errors_total{${h}} ${counters.listenerErrors}`);
  for (const [kind, table] of [
    ['port', counters.ports],
    ['peer', counters.peers],
  ] as const) {
    for (const [key, help] of [
      ['rxFrames', 'frames received'],
      ['rxBytes', 'bytes received'],
      ['txFrames', 'frames sent'],
      ['txBytes', 'bytes sent'],
      ['txDrops', 'frames refused by the device (tx-full)'],
    ] as const) {
      const name = `dvs_agent_${kind}_${snake(key)}_total`;
      family(name, 'counter', `Per ${kind}: ${help}.`);
      for (const [id, c] of Object.entries(table)) out.push(`${name}{${h},${kind}="${escape(id)}"} ${c[key]}`);
    }
  }
  for (const [key, help] of [
    ['mirrored', 'copies made (an RSPAN analyser port: copies handed to it)'],
    ['mirroredBytes', 'bytes of those copies'],
    ['dropped', 'copies that could not be made (output absent or down, no socket)'],
  ] as const) {
    const name = `dvs_agent_mirror_${snake(key)}_total`;
    family(name, 'counter', `Per mirror: ${help}.`);
    for (const [id, c] of Object.entries(counters.mirrors ?? {}))
      out.push(`${name}{${h},mirror="${escape(id)}"} ${c[key]}`);
  }
  return out.concat(extra).join('\n') + '\n';
}

/** ARP/ND suppression per VNI (the `suppression` part of networks/show), on either provider. */
export function suppressionMetricLines(host: string, networks: readonly AgentNetworkView[]): string[] {
  if (networks.length === 0) return [];
  const out: string[] = [];
  const h = `host="${escape(host)}"`;
  for (const [key, type, help] of [
    ['bindings', 'gauge', 'IP bindings held (learned from local ports or published by the controller)'],
    ['answered', 'counter', 'ARP requests and NSs answered locally'],
    ['flooded', 'counter', 'ARP requests and NSs for an IP with no live binding, flooded'],
    ['conflicts', 'counter', 'claims of a bound IP by a second MAC (the first keeps it)'],
    ['refused', 'counter', 'new bindings refused by a full table'],
  ] as const) {
    const name = `dvs_agent_suppression_${key}${type === 'counter' ? '_total' : ''}`;
    out.push(`# HELP ${name} ARP/ND suppression per VNI: ${help}.`, `# TYPE ${name} ${type}`);
    for (const n of networks) out.push(`${name}{${h},vni="${n.vni}"} ${n.suppression[key]}`);
  }
  return out;
}

function snake(s: string): string {
  return s.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}

/** A Prometheus label value, escaped. */
export function escape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
