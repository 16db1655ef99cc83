import { NTF_EXT_LEARNED, NTF_SELF } from './fdb-change.js';
import { isListMac } from './fdb-change.js';
import type { NativeFdbRecord } from './native-binding.js';

/**
 * An entry of a kernel FDB (an AF_BRIDGE neighbour), as `Rtnetlink.fdb()`
 * dumps it and the FDB monitor reports it. Two tables hold entries:
 *  - a bridge's (`table: 'master'`, `master` = the bridge): MAC → port
 *    (`ifindex`); learned from frames arriving on a port (`dynamic`,
 *    `stale` once past half its ageing), added as `static`, or `permanent`
 *    for the bridge's and its ports' own MACs;
 *  - a device's own (`table: 'self'`): a vxlan device's MAC → remote VTEP
 *    (`dst`, `dstPort`, `vni`, `via`), one entry per destination for the
 *    all-zeros MAC (the flood list); other devices list their unicast and
 *    multicast addresses here as `permanent`.
 */
export interface FdbEntry {
  /** The port (bridge table) or the device (own table) holding the entry. */
  readonly ifindex: number;
  /** The bridge whose table holds it; 0 for a device's own table. */
  readonly master: number;
  readonly table: 'self' | 'master';
  /** The 48-bit MAC, as @dvs/wire's parseMac() gives it; 0 for the all-zeros (flood) entry. */
  readonly mac: number;
  /** 0 when the entry has no VLAN. */
  readonly vlan: number;
  readonly state: FdbEntryState;
  /** Remote VTEP address ('' when none). */
  readonly dst: string;
  /** Remote UDP port (0: the device's default). */
  readonly dstPort: number;
  /** VNI to send with (null: the device's). */
  readonly vni: number | null;
  readonly srcVni: number | null;
  /** Underlay device to send through (0: by route). */
  readonly via: number;
  /** Added by an external learner (EVPN control plane, switchdev): NTF_EXT_LEARNED. */
  readonly extLearned: boolean;
  /** A sticky bridge entry never moves to another port. */
  readonly sticky: boolean;
}

/**
 * permanent: never ages (a bridge's: delivered to the bridge itself);
 * static: never ages; dynamic: learned, ageing; stale: learned and past
 * half its ageing time (NUD_STALE); other: any other NUD state.
 */
export type FdbEntryState = 'permanent' | 'static' | 'dynamic' | 'stale' | 'other';

const NUD_REACHABLE = 0x02;
const NUD_STALE = 0x04;
const NUD_NOARP = 0x40;
const NUD_PERMANENT = 0x80;
const NTF_STICKY = 0x40;

function stateOf(nud: number): FdbEntryState {
  if (nud & NUD_PERMANENT) return 'permanent';
  if (nud & NUD_NOARP) return 'static';
  if (nud & NUD_STALE) return 'stale';
  if (nud & NUD_REACHABLE) return 'dynamic';
  return 'other';
}

/** @internal */
export function fdbEntryOf(r: NativeFdbRecord): FdbEntry {
  return {
    ifindex: r.ifindex,
    master: r.master,
    // The same rule decides natively which entries a monitor of one table skips (neighbour.cc).
    table: (r.flags & NTF_SELF) !== 0 || r.master === 0 ? 'self' : 'master',
    mac: r.mac,
    vlan: r.vlan,
    state: stateOf(r.state),
    dst: r.dst,
    dstPort: r.dstPort,
    vni: r.vni,
    srcVni: r.srcVni,
    via: r.via,
    extLearned: (r.flags & NTF_EXT_LEARNED) !== 0,
    sticky: (r.flags & NTF_STICKY) !== 0,
  };
}

/**
 * What identifies an entry in the kernel, so a notification finds the entry
 * it changes: a bridge's table is keyed by (bridge, MAC, VLAN) and the port
 * is the value (a MAC that moves to another port is the same entry); a
 * device's own table by (device, MAC, VLAN, source VNI), plus the destination
 * for the all-zeros and group MACs, which hold one per destination.
 */
export function fdbEntryKey(e: FdbEntry): string {
  if (e.table === 'master') return `m/${e.master}/${e.mac}/${e.vlan}`;
  const key = `s/${e.ifindex}/${e.mac}/${e.vlan}/${e.srcVni ?? ''}`;
  return isListMac(e.mac) ? `${key}/${e.dst}/${e.dstPort}/${e.vni ?? ''}/${e.via}` : key;
}
