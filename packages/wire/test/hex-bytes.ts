// Test vectors are written as spaced hex, byte by byte, the way RFC diagrams
// and tshark's hex dump show them.
export function hex(text: string): Buffer {
  const clean = text.replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(clean)) throw new Error(`bad hex vector: ${text}`);
  return Buffer.from(clean, 'hex');
}

export function toHex(buf: Uint8Array): string {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('hex');
}
