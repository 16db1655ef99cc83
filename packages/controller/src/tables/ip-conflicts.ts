/**
 * IP bindings across hosts (EVPN's MAC+IP routes): the FDB entries the
 * controller publishes carry the IPs their MACs were seen with (`ips`, from
 * the winning report), and every agent answers ARP and ND from them. Two
 * MACs of a VNI claiming one IP is a conflict, and the first one wins:
 *  - the MAC whose published entry already carries the IP keeps it;
 *  - between two new claims, the lowest MAC (so every replica agrees);
 *  - the other entries are published without the IP.
 * `ipConflictsOf` finds what lost, for `dvs status`. Pure functions, no I/O.
 */
import type { FdbEntryRecord, ReportRecord } from '@dvs/wire';

export interface IpConflict {
  vni: number;
  ip: string;
  /** The MAC that holds the IP. */
  mac: string;
  /** A MAC that claims it too, and the host that reports it. */
  claimant: string;
  host: string;
}

/** Removes from `next` every IP a MAC claims that another MAC of its VNI holds first (see above). */
export function resolveIpConflicts(
  next: Map<string, FdbEntryRecord>,
  published: ReadonlyMap<string, FdbEntryRecord>,
): void {
  const holder = new Map<string, string>(); // `${vni}/${ip}` → mac
  for (const entry of published.values()) {
    for (const ip of entry.ips) {
      const key = `${entry.vni}/${ip}`;
      const mac = next.get(`${entry.vni}/${entry.mac}`)?.ips.includes(ip) === true ? entry.mac : undefined;
      if (mac !== undefined && !holder.has(key)) holder.set(key, mac);
    }
  }
  const sorted = [...next.values()].sort((a, b) => a.vni - b.vni || (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
  for (const entry of sorted) {
    for (const ip of entry.ips) {
      const key = `${entry.vni}/${ip}`;
      if (!holder.has(key)) holder.set(key, entry.mac);
    }
  }
  for (const [tableKey, entry] of next) {
    const kept = entry.ips.filter((ip) => holder.get(`${entry.vni}/${ip}`) === entry.mac);
    if (kept.length !== entry.ips.length) next.set(tableKey, { ...entry, ips: kept });
  }
}

/** Reports whose IPs the published FDB gives to another MAC: what `dvs status` shows as ip-conflict. */
export function ipConflictsOf(fdb: Iterable<FdbEntryRecord>, reports: Iterable<ReportRecord>): IpConflict[] {
  const holder = new Map<string, string>();
  for (const entry of fdb) for (const ip of entry.ips) holder.set(`${entry.vni}/${ip}`, entry.mac);
  const out: IpConflict[] = [];
  for (const report of reports) {
    for (const ip of report.ips) {
      const mac = holder.get(`${report.vni}/${ip}`);
      if (mac !== undefined && mac !== report.mac) {
        out.push({ vni: report.vni, ip, mac, claimant: report.mac, host: report.host });
      }
    }
  }
  return out.sort((a, b) => a.vni - b.vni || a.ip.localeCompare(b.ip) || a.claimant.localeCompare(b.claimant));
}
