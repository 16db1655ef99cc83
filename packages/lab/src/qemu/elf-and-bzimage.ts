/**
 * Two small binary checks the guest image builder makes on its inputs and
 * output: is a program statically linked (it must run in an initramfs with no
 * libc), and which kernel version does a bzImage hold (its setup header names
 * it, so the modules packed beside it can be checked against it).
 */

const ELF_MAGIC = 0x7f454c46; // "\x7fELF"
const ELFCLASS64 = 2;
const PT_INTERP = 3;

/** True for a 64-bit little-endian ELF executable with no program interpreter (static). */
export function isStaticElf(buf: Buffer): boolean {
  if (buf.length < 64 || buf.readUInt32BE(0) !== ELF_MAGIC || buf[4] !== ELFCLASS64 || buf[5] !== 1) return false;
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  if (phoff + phentsize * phnum > buf.length) return false;
  for (let i = 0; i < phnum; i++) {
    if (buf.readUInt32LE(phoff + i * phentsize) === PT_INTERP) return false;
  }
  return true;
}

/** Offset of the "HdrS" signature of the x86 boot protocol's setup header. */
const SETUP_HEADER_MAGIC_OFFSET = 0x202;
/** Offset of kernel_version: a pointer to the version string, minus 0x200. */
const KERNEL_VERSION_POINTER_OFFSET = 0x20e;

/** The version string of an x86 bzImage ("6.1.0-57-cloud-amd64 (debian-kernel@…) #1 SMP …"), or null. */
export function bzImageVersion(buf: Buffer): string | null {
  if (buf.length < 0x210 || buf.toString('ascii', SETUP_HEADER_MAGIC_OFFSET, SETUP_HEADER_MAGIC_OFFSET + 4) !== 'HdrS')
    return null;
  const at = buf.readUInt16LE(KERNEL_VERSION_POINTER_OFFSET) + 0x200;
  if (at >= buf.length) return null;
  const end = buf.indexOf(0, at);
  return end < 0 ? null : buf.toString('ascii', at, Math.min(end, at + 256));
}
