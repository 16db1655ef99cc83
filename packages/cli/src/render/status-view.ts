/** `dvs status`: problems first, then the cluster in five lines. */
import type { StatusView } from '@dvs/wire';
import { paint, renderFields } from './table.js';

export function renderStatus(status: StatusView, color: boolean): string {
  const c = status.controller;
  const role = c.leader ? 'leader' : `standby, leader ${c.leaderId ?? 'none'}`;
  const out: string[] = [
    `controller ${c.id} (${role}), etcd ${paint(c.etcd, c.etcd === 'up' ? 'good' : 'bad', color)}`,
    '',
  ];
  if (status.problems.length === 0) {
    out.push(paint('no problems', 'good', color));
  } else {
    out.push(paint(`PROBLEMS (${status.problems.length})`, 'bad', color));
    const width = Math.max(...status.problems.map((p) => p.kind.length));
    for (const p of status.problems) out.push(`  ${paint(p.kind.padEnd(width), 'bad', color)}  ${p.message}`);
  }
  out.push('');
  const t = status.tunnels;
  out.push(
    renderFields([
      [
        'hosts',
        `${status.hosts.up} up, ${status.hosts.stale} stale, ${status.hosts.down} down` +
          (status.divergentHosts ? `, ${status.divergentHosts} divergent (dvs audit)` : ''),
      ],
      ['networks', String(status.networks)],
      ['fdb', `${status.fdb.entries} entries, ${status.fdb.duplicates} duplicate, ${status.fdb.stale} stale`],
      ['tunnels', `${t.up} up, ${t.down} down, ${t.init} init, ${t.unmonitored} unmonitored`],
    ]),
  );
  if (status.problems.length > 0) {
    out.push('', 'next: dvs tunnels (which tunnel, why) · dvs hosts · dvs fdb --mac <mac>');
  }
  return out.join('\n');
}
