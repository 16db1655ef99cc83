import { readFileSync, writeFileSync } from 'node:fs';
import { NetdevError } from './errors.js';

/**
 * Lets a device hold IPv6 neighbour entries (a bridge that answers neighbour
 * solicitations from its table) without taking part in IPv6 itself: no
 * address is generated (`addr_gen_mode` 1, none), so the device sends no
 * DAD, router solicitation or MLD report of its own; then IPv6 is enabled on
 * it (`disable_ipv6` 0: the kernel refuses ND entries on a device where it
 * is disabled, "IPv6 is disabled on this device"). Through the calling
 * process's own /proc/sys/net (its network namespace). Returns false when
 * this kernel has no IPv6; throws DVS_IO when a setting cannot be written.
 */
export function enableIpv6Neighbours(device: string): boolean {
  const dir = `/proc/sys/net/ipv6/conf/${device}`;
  try {
    readFileSync(`${dir}/disable_ipv6`, 'utf8');
  } catch {
    return false;
  }
  for (const [key, value] of [
    ['addr_gen_mode', '1'],
    ['disable_ipv6', '0'],
  ] as const) {
    try {
      if (readFileSync(`${dir}/${key}`, 'utf8').trim() !== value) writeFileSync(`${dir}/${key}`, value);
    } catch (err) {
      throw new NetdevError('DVS_IO', `cannot set net.ipv6.conf.${device}.${key}=${value}: ${(err as Error).message}`);
    }
  }
  return true;
}
