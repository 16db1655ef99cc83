/**
 * Headers pushed in front of a frame inside its batch slot, in place: written
 * into the headroom (HEADROOM leaves room for a tunnel header and a tag), and
 * the slot's offset and length moved over them. Nothing is copied or
 * allocated.
 */
import type { PacketBatch } from '@dvs/netdev';
import { VLAN_TAG_LENGTH, pushVlanTag, type Encap } from '@dvs/wire';
import { TUNNEL_HEADER_LENGTH, writeTunnelHeader } from './encap.js';

/** An 802.1Q tag `vlan` into slot `i`'s frame; false (nothing changed) when the frame is malformed. */
export function pushSlotVlanTag(batch: PacketBatch, i: number, vlan: number): boolean {
  if (pushVlanTag(batch.buffer, batch.start(i), batch.lengths[i], vlan) < 0) return false;
  batch.offsets[i] -= VLAN_TAG_LENGTH;
  batch.lengths[i] += VLAN_TAG_LENGTH;
  return true;
}

/** The tunnel header of `encap` for `vni` in front of slot `i`'s frame. */
export function pushSlotTunnelHeader(batch: PacketBatch, i: number, encap: Encap, vni: number): void {
  writeTunnelHeader(encap, batch.buffer, batch.start(i) - TUNNEL_HEADER_LENGTH, vni);
  batch.offsets[i] -= TUNNEL_HEADER_LENGTH;
  batch.lengths[i] += TUNNEL_HEADER_LENGTH;
}
