/** `dvs fdb`: the authoritative MAC table, one row per (VNI, MAC). */
import type { FdbEntryView } from '@dvs/wire';
import { formatAge, formatVtep } from './format.js';
import { renderTable } from './table.js';

function flags(e: FdbEntryView): string {
  const out: string[] = [];
  if (e.origin === 'static') out.push('static');
  if (e.duplicate) out.push('DUPLICATE');
  if (e.stale === true) out.push('stale');
  return out.join(',') || '-';
}

export function renderFdb(entries: readonly FdbEntryView[], color: boolean): string {
  if (entries.length === 0) return 'no FDB entries match';
  const table = renderTable(
    [
      { header: 'VNI', value: (e) => String(e.vni), align: 'right' },
      { header: 'MAC', value: (e) => e.mac },
      { header: 'HOST', value: (e) => e.host ?? '(external)' },
      { header: 'VTEP', value: (e) => formatVtep(e.vtep) },
      { header: 'SEQ', value: (e) => String(e.seq), align: 'right' },
      { header: 'AGE', value: (e) => formatAge(e.ageMs), align: 'right' },
      { header: 'MOVES', value: (e) => String(e.moves), align: 'right' },
      { header: 'FLAGS', value: flags, tone: (e) => (e.duplicate ? 'bad' : e.stale === true ? 'warn' : null) },
      { header: 'IPS', value: (e) => e.ips.join(',') || '-' },
    ],
    entries,
    color,
  );
  const reasons = entries.filter((e) => e.reason !== '').map((e) => `  ${e.vni} ${e.mac}: ${e.reason}`);
  return reasons.length === 0 ? table : `${table}\n\nnotes:\n${reasons.join('\n')}`;
}
