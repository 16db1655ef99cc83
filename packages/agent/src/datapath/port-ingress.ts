/**
 * The L2 hygiene steps of a frame from a local port that are not port
 * security's allowed pairs (port-security.ts): tags on access ports, the
 * per-port MAC limit, the storm-control class of a flooded frame, and the
 * per-port drop counters (the pipeline's, and the device's own). Hot path:
 * nothing allocates.
 */
import type { DropCounters, DropReason } from './counters.js';
import type { Fdb } from './fdb.js';
import { isBroadcastAt, isGroupAt, macHighAt, macLowAt, u16At } from './frame-read.js';
import type { Port } from './port.js';
import type { PortGuard } from './port-security.js';
import { StormClass } from './storm-control.js';

/** An 802.1Q, 802.1ad or pre-standard QinQ (0x9100) tag after the MACs at `off`. */
export function taggedOnAccess(buf: Uint8Array, off: number): boolean {
  const type = u16At(buf, off + 12);
  return type === 0x8100 || type === 0x88a8 || type === 0x9100;
}

/** Whether the frame's source MAC would be one more than the port's limit in this VNI. */
export function overMacLimit(guard: PortGuard, fdb: Fdb, port: Port, buf: Uint8Array, off: number): boolean {
  if (guard.maxMacs === 0) return false;
  const known = fdb.lookupHalves(macHighAt(buf, off + 6), macLowAt(buf, off + 6));
  if (known !== undefined && known.location === port) return false;
  return fdb.dynamicCountOf(port) >= guard.maxMacs;
}

/** The storm-control class of a frame about to be flooded (destination at `off`). */
export function floodClassAt(buf: Uint8Array, off: number): StormClass {
  if (!isGroupAt(buf, off)) return StormClass.UnknownUnicast;
  return isBroadcastAt(buf, off) ? StormClass.Broadcast : StormClass.Multicast;
}

/** Charges a drop to the port's own counters (the ones `dvs agent ports` shows). */
export function countPortDrop(port: Port, reason: DropReason, storm?: StormClass): void {
  const c = port.securityDrops;
  switch (reason) {
    case 'port-security':
      c.portSecurity++;
      break;
    case 'arp-spoof':
      c.arpSpoof++;
      break;
    case 'nd-spoof':
      c.ndSpoof++;
      break;
    case 'mac-limit':
      c.macLimit++;
      break;
    case 'tagged-on-access':
      c.taggedOnAccess++;
      break;
    case 'storm-control':
      if (storm === StormClass.Broadcast) c.stormBroadcast++;
      else if (storm === StormClass.Multicast) c.stormMulticast++;
      else c.stormUnknownUnicast++;
      break;
    default:
      break;
  }
}

/**
 * Charges what the port's device dropped in its last read as too big for the
 * slot (its stats, read without a system call) to the port and to `too-big`.
 */
export function countDeviceDrops(port: Port, drops: DropCounters): void {
  const stats = port.deviceStats;
  if (stats === null) return;
  const tooBig = stats.readDropsTooBig - port.tooBigCharged;
  if (tooBig === 0) return;
  port.tooBigCharged = stats.readDropsTooBig;
  port.deviceDrops.tooBig += tooBig;
  drops['too-big'] += tooBig;
}
