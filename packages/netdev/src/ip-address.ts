import { formatIpv4Address, formatIpv6Address } from '@dvs/wire';

/** Text of slot i's address in a batch (for logs and tests), e.g. "192.0.2.1" or "2001:db8::1". */
export function slotAddressText(family: number, ipv4: number, ipv6: Uint8Array, ipv6Offset: number): string {
  if (family === 4) return formatIpv4Address(ipv4);
  if (family === 6) return formatIpv6Address(ipv6, ipv6Offset);
  return '';
}
