/**
 * A VTEP as records carry it: underlay address (IPv4 dotted or IPv6 text) and
 * UDP port. Shared by host, FDB entry, flood list and tunnel status records.
 */
import { FieldInvalid, type FieldReader } from './field-reader.js';
import { isIpAddress } from '../frames/ip-address.js';

export interface VtepRecord {
  address: string;
  port: number;
}

export function readVtep(r: FieldReader): VtepRecord {
  const address = r.string('address', 64);
  if (!isIpAddress(address)) throw new FieldInvalid(r.pathOf('address'), 'expected an IPv4 or IPv6 address');
  return { address, port: r.int('port', 1, 65535) };
}

/** Orders VTEPs by address then port: the tie-break order of MAC mobility (lowest wins). */
export function compareVteps(a: VtepRecord, b: VtepRecord): number {
  const ka = addressSortKey(a.address);
  const kb = addressSortKey(b.address);
  if (ka !== kb) return ka < kb ? -1 : 1;
  return a.port - b.port;
}

/**
 * Numeric order for IPv4 (so 10.0.0.9 < 10.0.0.10), IPv4 before IPv6, IPv6 by
 * its expanded hex form.
 */
function addressSortKey(address: string): string {
  if (address.includes('.') && !address.includes(':')) {
    return (
      '4' +
      address
        .split('.')
        .map((o) => Number(o).toString(16).padStart(2, '0'))
        .join('')
    );
  }
  return '6' + expandIpv6(address);
}

function expandIpv6(address: string): string {
  const [head, tail] = address.toLowerCase().split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : new Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0');
  return [...h, ...fill, ...t].map((g) => g.padStart(4, '0')).join('');
}
