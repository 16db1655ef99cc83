// Test frames built by hand (not via the code under test).
import { parseMac, writeMac } from '@dvs/wire';

export function mac(text: string): number {
  const m = parseMac(text);
  if (m === null) throw new Error(`bad MAC ${text}`);
  return m;
}

export const BROADCAST = 0xffffffffffff;

/** An untagged Ethernet frame: dst, src, EtherType, `payload` bytes of a marker pattern. */
export function frame(dst: number, src: number, payloadLength = 46, type = 0x0800, marker = 0x5a): Buffer {
  const b = Buffer.alloc(14 + payloadLength, marker);
  writeMac(b, 0, dst);
  writeMac(b, 6, src);
  b.writeUInt16BE(type, 12);
  return b;
}

/** An 802.1Q-tagged frame. */
export function taggedFrame(dst: number, src: number, vlan: number, payloadLength = 46, type = 0x0800): Buffer {
  const b = Buffer.alloc(18 + payloadLength, 0x5a);
  writeMac(b, 0, dst);
  writeMac(b, 6, src);
  b.writeUInt16BE(0x8100, 12);
  b.writeUInt16BE(vlan, 14);
  b.writeUInt16BE(type, 16);
  return b;
}

export function dstOf(f: Buffer): string {
  return f.subarray(0, 6).toString('hex');
}

export function vlanOf(f: Buffer): number {
  return f.readUInt16BE(12) === 0x8100 ? f.readUInt16BE(14) & 0x0fff : -1;
}

/** Lets the fakes' setImmediate-driven readiness run until quiet. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}
