import { NetdevError } from './errors.js';

/**
 * Refuses a netlink request before anything is sent: DVS_NETLINK_INVALID,
 * the message naming the field (`vxlan.vni`, `changes[3].dst`) and what it
 * must be.
 */
export function invalid(field: string, must: string): never {
  throw new NetdevError('DVS_NETLINK_INVALID', `${field} ${must}`);
}

export function checkInteger(value: unknown, field: string, min: number, max: number): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    invalid(field, `must be an integer of ${min}..${max}, got ${String(value)}`);
  }
  return value as number;
}
