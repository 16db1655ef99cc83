import type { TraceReport } from '../datapath/trace.js';

/** Text of the `trace` admin command: numbered steps, then the decision and one line per output. */
export function renderTraceReport(report: TraceReport): string {
  const width = Math.max(...report.steps.map((s) => s.step.length));
  const lines = [
    `trace VNI ${report.vni} ${report.src} → ${report.dst}${report.port === null ? '' : ` from port ${report.port}`}`,
    ...report.steps.map((s, i) => `${i + 1}. ${s.step.padEnd(width)}  ${s.result}`),
  ];
  const d = report.decision;
  lines.push(`decision: ${d.action}${d.dropReason === null ? '' : ` (${d.dropReason})`}: ${d.reason}`);
  for (const out of d.outputs) {
    lines.push(
      out.kind === 'port'
        ? `  → port ${out.port}${out.vlan === null ? '' : ` vlan ${out.vlan}`}`
        : `  → ${out.encap} ${out.vtep} udp ${out.sourcePort === undefined ? '' : `${out.sourcePort}→`}${out.udpPort} header ${out.tunnelHeader}`,
    );
  }
  return lines.join('\n') + '\n';
}
