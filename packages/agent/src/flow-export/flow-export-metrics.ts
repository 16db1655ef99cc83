/**
 * Prometheus lines of flow export (added to the agent's /metrics): what the
 * sFlow agent and the IPFIX exporter sent, dropped and failed to send.
 * Families appear only while the exporter is on.
 */
import type { FlowExport } from './flow-export.js';

export function flowExportMetricLines(host: string, flows: FlowExport): string[] {
  const h = `host="${host.replace(/["\\\n]/g, '_')}"`;
  const out: string[] = [];
  const add = (name: string, type: 'counter' | 'gauge', help: string, value: number): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}{${h}} ${value}`);
  };
  const s = flows.sflowView().counters;
  if (s !== null) {
    add('dvs_agent_sflow_datagrams_total', 'counter', 'sFlow datagrams sent.', s.datagrams);
    add('dvs_agent_sflow_flow_samples_total', 'counter', 'sFlow flow samples sent.', s.flowSamples);
    add('dvs_agent_sflow_counter_samples_total', 'counter', 'sFlow counter samples sent.', s.counterSamples);
    add('dvs_agent_sflow_sample_drops_total', 'counter', 'sFlow samples lost to a full sample ring.', s.sampleDrops);
    add('dvs_agent_sflow_send_errors_total', 'counter', 'sFlow datagrams the socket refused.', s.sendErrors);
  }
  const i = flows.ipfixView().counters;
  if (i !== null) {
    add('dvs_agent_ipfix_flows', 'gauge', 'Flows in the IPFIX flow cache.', i.flows);
    add('dvs_agent_ipfix_records_total', 'counter', 'IPFIX data records sent.', i.records);
    add('dvs_agent_ipfix_messages_total', 'counter', 'IPFIX messages sent.', i.messages);
    add('dvs_agent_ipfix_cache_full_total', 'counter', 'New flows not recorded: the cache was full.', i.cacheFull);
    add('dvs_agent_ipfix_send_errors_total', 'counter', 'IPFIX messages the socket refused.', i.sendErrors);
  }
  return out;
}
