/**
 * Port security on the kernel provider: nftables rules in the bridge family,
 * one table owned by dvs (`bridge dvs`), a chain per secured port jumped to
 * from a prerouting base chain by the port's device name (frames entering a
 * bridge from the port, before the bridge learns or forwards them). It
 * enforces what datapath/port-security.ts enforces in userspace, where the
 * kernel can:
 *  - allowed pairs: a source MAC not allowed is dropped (`port-security`);
 *    for a MAC with addresses, IPv4/IPv6 sources must be among them
 *    (0.0.0.0, :: and the MAC's EUI-64 link-local pass) (`port-security`),
 *    and ARP must carry the frame's MAC and an allowed or zero sender IP
 *    (`arp-spoof`);
 *  - lock to the first MAC: the first MAC the bridge learns on the port;
 *  - storm control for broadcast and multicast (`limit rate over`).
 * Not here (userspace only): the ND target check (`nd-spoof`), the MAC limit
 * and unknown-unicast storm control (the bridge decides "unknown" after
 * these rules run).
 *
 * The table is replaced whole, atomically, by one `nft -f` transaction
 * (create, delete, define): it changes only when a port's security changes,
 * never per frame, so a process per change is acceptable here. Drops are
 * named counters, read back with `nft -j list counters`; a replacement
 * zeroes them, so their values are carried over by the caller.
 */
import {
  canonicalIpAddress,
  formatMac,
  parseIpAddress,
  parseMac,
  type PortSecurity,
  type PortSecurityCounters,
} from '@dvs/wire';
import { newPortSecurityCounters } from '../../datapath/port-security.js';

export const NFT_TABLE = 'dvs';
const NFT_FAMILY = 'bridge';

/** Runs `nft` with arguments and optional standard input; returns its output, throws on failure. */
export type NftRunner = (args: readonly string[], input?: string) => string;

export interface SecuredPort {
  name: string;
  device: string;
  security: PortSecurity;
  /** lockFirstMac: the MAC the port is locked to, once the bridge has learned one. */
  lockedMac?: number;
}

/** The counters a port's rules count into, by drop reason. */
const REASONS = {
  mac: 'portSecurity',
  arp: 'arpSpoof',
  bcast: 'stormBroadcast',
  mcast: 'stormMulticast',
} as const satisfies Record<string, keyof PortSecurityCounters>;
type Reason = keyof typeof REASONS;

/** A port's object names: its device name in hex (any name is safe, and reconcile can read it back). */
function tag(port: string): string {
  return Buffer.from(port, 'utf8').toString('hex');
}

function counterName(port: string, reason: Reason): string {
  return `ps_${tag(port)}_${reason}`;
}

/** The MAC's EUI-64 link-local address, fe80::/64. */
function eui64LinkLocal(mac: number): string {
  const b = Buffer.alloc(6);
  b.writeUIntBE(mac, 0, 6);
  b[0] = b[0]! ^ 2;
  const h = (i: number): string => b[i]!.toString(16).padStart(2, '0');
  return `fe80::${h(0)}${h(1)}:${h(2)}ff:fe${h(3)}:${h(4)}${h(5)}`;
}

function portRules(p: SecuredPort): string[] {
  const rules: string[] = [];
  const pairs =
    p.security.allowed !== undefined && p.security.allowed.length > 0
      ? p.security.allowed.map((a) => ({ mac: parseMac(a.mac) as number, ips: a.ips ?? [] }))
      : p.lockedMac !== undefined
        ? [{ mac: p.lockedMac, ips: [] }]
        : [];
  if (pairs.length > 0) {
    const macs = pairs.map((x) => formatMac(x.mac)).join(', ');
    rules.push(`ether saddr != { ${macs} } counter name ${counterName(p.name, 'mac')} drop`);
    for (const pair of pairs) {
      if (pair.ips.length === 0) continue;
      const mac = formatMac(pair.mac);
      const v4 = pair.ips.filter((ip) => parseIpAddress(ip)?.family === 4);
      const v6 = pair.ips.filter((ip) => parseIpAddress(ip)?.family === 6);
      rules.push(
        `ether saddr ${mac} ether type ip ip saddr != { ${['0.0.0.0', ...v4].join(', ')} } counter name ${counterName(p.name, 'mac')} drop`,
        `ether saddr ${mac} ether type ip6 ip6 saddr != { ${['::', eui64LinkLocal(pair.mac), ...v6].join(', ')} } counter name ${counterName(p.name, 'mac')} drop`,
        `ether saddr ${mac} ether type arp arp saddr ether != ${mac} counter name ${counterName(p.name, 'arp')} drop`,
        `ether saddr ${mac} ether type arp arp saddr ip != { ${['0.0.0.0', ...v4].join(', ')} } counter name ${counterName(p.name, 'arp')} drop`,
      );
    }
  }
  const storm = p.security.storm;
  // Bursts of a tenth of a second's worth, as storm-control.ts.
  const limit = (pps: number): string =>
    `limit rate over ${pps}/second burst ${Math.max(1, Math.ceil(pps / 10))} packets`;
  if (storm?.broadcastPps !== undefined && storm.broadcastPps > 0)
    rules.push(
      `ether daddr ff:ff:ff:ff:ff:ff ${limit(storm.broadcastPps)} counter name ${counterName(p.name, 'bcast')} drop`,
    );
  if (storm?.multicastPps !== undefined && storm.multicastPps > 0)
    rules.push(
      `ether daddr & 01:00:00:00:00:00 == 01:00:00:00:00:00 ether daddr != ff:ff:ff:ff:ff:ff ${limit(storm.multicastPps)} counter name ${counterName(p.name, 'mcast')} drop`,
    );
  return rules;
}

/**
 * Whether the port's security lets it state that `mac` owns `ip` (the
 * neighbour snooper reads frames before the nft rules drop them, so it
 * learns only what the rules would let through).
 */
export function allowsBinding(
  security: PortSecurity | undefined,
  lockedMac: number | undefined,
  mac: number,
  ip: string,
): boolean {
  const allowed = security?.allowed ?? [];
  if (allowed.length === 0) return lockedMac === undefined || lockedMac === mac;
  const pair = allowed.find((a) => parseMac(a.mac) === mac);
  if (pair === undefined) return false;
  const ips = pair.ips ?? [];
  return ips.length === 0 || ips.some((x) => canonicalIpAddress(x) === ip);
}

/** The whole-table script: the table made if missing, deleted, and defined anew, in one transaction. */
export function portSecurityScript(ports: readonly SecuredPort[]): string {
  const lines = [`table ${NFT_FAMILY} ${NFT_TABLE}`, `delete table ${NFT_FAMILY} ${NFT_TABLE}`];
  lines.push(`table ${NFT_FAMILY} ${NFT_TABLE} {`);
  for (const p of ports)
    for (const reason of Object.keys(REASONS) as Reason[]) lines.push(`  counter ${counterName(p.name, reason)} { }`);
  lines.push('  chain ports {', '    type filter hook prerouting priority -200; policy accept;');
  for (const p of ports) lines.push(`    iifname ${JSON.stringify(p.device)} jump port_${tag(p.name)}`);
  lines.push('  }');
  for (const p of ports) {
    lines.push(`  chain port_${tag(p.name)} {`);
    for (const rule of portRules(p)) lines.push(`    ${rule}`);
    lines.push('  }');
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** Drop counters by port, from `nft -j list counters table bridge dvs`. */
export function parseNftCounters(json: string): Map<string, PortSecurityCounters> {
  const out = new Map<string, PortSecurityCounters>();
  const items = (JSON.parse(json) as { nftables?: { counter?: { name?: string; packets?: number } }[] }).nftables ?? [];
  for (const item of items) {
    const m = /^ps_([0-9a-f]+)_(\w+)$/.exec(item.counter?.name ?? '');
    if (m === null || !Object.hasOwn(REASONS, m[2]!)) continue;
    const port = Buffer.from(m[1]!, 'hex').toString('utf8');
    const c = out.get(port) ?? newPortSecurityCounters();
    c[REASONS[m[2] as Reason]] += item.counter?.packets ?? 0;
    out.set(port, c);
  }
  return out;
}

/** The nft table of the kernel provider: replaced whole on every change, counters carried across replacements. */
export class NftPortSecurity {
  private readonly carried = new Map<string, PortSecurityCounters>();
  private present = false;
  /** The last read and when (counters are read by views and metrics, often per peer: one `nft` per second at most). */
  private cache: { at: number; counters: Map<string, PortSecurityCounters> } | null = null;

  constructor(
    private readonly nft: NftRunner,
    private readonly clock: () => number = Date.now,
    private readonly maxAgeMs = 1000,
  ) {}

  /** Makes the table hold exactly these ports' rules (none: the table goes). Throws when nft refuses. */
  apply(ports: readonly SecuredPort[]): void {
    this.cache = null;
    const before = this.present ? this.read() : new Map<string, PortSecurityCounters>();
    for (const [port, c] of before) this.carried.set(port, sum(this.carried.get(port), c));
    if (ports.length === 0) this.remove();
    else {
      this.nft(['-f', '-'], portSecurityScript(ports));
      this.present = true;
    }
    const kept = new Set(ports.map((p) => p.name));
    for (const port of [...this.carried.keys()]) if (!kept.has(port)) this.carried.delete(port);
  }

  /** Deletes the table, if there (a host leaving the kernel provider, or no port with security). */
  remove(): void {
    this.cache = null;
    this.nft(['-f', '-'], `table ${NFT_FAMILY} ${NFT_TABLE}\ndelete table ${NFT_FAMILY} ${NFT_TABLE}\n`);
    this.present = false;
  }

  /** Drops by port since the port got its rules. */
  counters(): Map<string, PortSecurityCounters> {
    const t = this.clock();
    if (this.cache === null || t - this.cache.at >= this.maxAgeMs)
      this.cache = { at: t, counters: this.present ? this.read() : new Map<string, PortSecurityCounters>() };
    const now = this.cache.counters;
    const out = new Map<string, PortSecurityCounters>();
    for (const port of new Set([...now.keys(), ...this.carried.keys()]))
      out.set(port, sum(this.carried.get(port), now.get(port)));
    return out;
  }

  private read(): Map<string, PortSecurityCounters> {
    try {
      return parseNftCounters(this.nft(['-j', 'list', 'counters', 'table', NFT_FAMILY, NFT_TABLE]));
    } catch {
      return new Map();
    }
  }
}

function sum(a: PortSecurityCounters | undefined, b: PortSecurityCounters | undefined): PortSecurityCounters {
  const out = newPortSecurityCounters();
  for (const k of Object.keys(out) as (keyof PortSecurityCounters)[]) out[k] = (a?.[k] ?? 0) + (b?.[k] ?? 0);
  return out;
}
