import { PORT_STATES } from '@dvs/wire';
import { escape } from '../observe/metrics.js';
import type { AgentPortView } from './managed-port.js';

/**
 * Prometheus lines of the ports' life cycle (beside the traffic counters of
 * observe/metrics.ts): state, since when, device gone and back, the device's
 * own drops, MTU warnings, state file write errors.
 */
export function portMetricLines(host: string, ports: readonly AgentPortView[], stateFileErrors: number): string[] {
  const out: string[] = [];
  const h = `host="${escape(host)}"`;
  const family = (name: string, type: 'counter' | 'gauge', help: string): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  };
  family(
    'dvs_agent_port_state',
    'gauge',
    'Port state, 1 for the current one: up, down (its device is down), gone (its device does not exist).',
  );
  for (const p of ports) {
    const labels = `${h},port="${escape(p.name)}",kind="${p.kind}",device_kind="${escape(p.deviceKind)}"`;
    for (const state of PORT_STATES)
      out.push(`dvs_agent_port_state{${labels},state="${state}"} ${p.state === state ? 1 : 0}`);
  }
  family('dvs_agent_port_state_since_seconds', 'gauge', 'When the port entered its state (Unix time, seconds).');
  for (const p of ports)
    out.push(`dvs_agent_port_state_since_seconds{${h},port="${escape(p.name)}"} ${p.since / 1000}`);
  family(
    'dvs_agent_port_device_gone_total',
    'counter',
    "Times a port's device went away (deleted, VM quit, pod died).",
  );
  for (const p of ports) out.push(`dvs_agent_port_device_gone_total{${h},port="${escape(p.name)}"} ${p.deviceGone}`);
  family(
    'dvs_agent_port_device_drops_total',
    'counter',
    'Per port: frames its device dropped before switching, by reason (too_big: longer than the read slot), since the device was opened.',
  );
  for (const p of ports) {
    if (p.deviceDrops === undefined) continue;
    out.push(
      `dvs_agent_port_device_drops_total{${h},port="${escape(p.name)}",reason="too_big"} ${p.deviceDrops.tooBig}`,
    );
  }
  family('dvs_agent_port_reattached_total', 'counter', "Times a port's device came back and was attached again.");
  for (const p of ports) out.push(`dvs_agent_port_reattached_total{${h},port="${escape(p.name)}"} ${p.reattached}`);
  family(
    'dvs_agent_port_mtu_above_overlay',
    'gauge',
    "1 while a port's device MTU is larger than its networks' overlay MTU (larger frames are dropped: mtu).",
  );
  for (const p of ports)
    out.push(`dvs_agent_port_mtu_above_overlay{${h},port="${escape(p.name)}"} ${p.mtuWarning === null ? 0 : 1}`);
  family('dvs_agent_state_file_write_errors_total', 'counter', 'Writes of the agent state file that failed.');
  out.push(`dvs_agent_state_file_write_errors_total{${h}} ${stateFileErrors}`);
  return out;
}
