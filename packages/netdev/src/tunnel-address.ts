import { NetdevError } from './errors.js';
import { parseIpAddress, type ParsedIpAddress } from '@dvs/wire';
import type { OpenTunnelOptions } from './types.js';

/** A validated bind address for a tunnel socket. */
export interface TunnelBindAddress {
  parsed: ParsedIpAddress;
  /** '::' binds dual stack (IPv4 arrives as family 4); any other IPv6 address is IPv6 only. */
  dualStack: boolean;
}

export function checkTunnelOptions(options: OpenTunnelOptions): TunnelBindAddress {
  const parsed = parseIpAddress(options.address);
  if (parsed === null) throw new NetdevError('DVS_ADDRESS_INVALID', `not an IP address: "${options.address}"`);
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new NetdevError('DVS_ADDRESS_INVALID', `port must be 0..65535, got ${options.port}`);
  }
  const dualStack = parsed.family === 6 && parsed.ipv6.every((b) => b === 0);
  return { parsed, dualStack };
}
