/**
 * A writer for the cpio "newc" format (the one the Linux kernel unpacks as an
 * initramfs, Documentation/driver-api/early-userspace/buffer-format.rst).
 * Written here rather than piped through cpio(1) so that the guest image can
 * hold a /dev/console device node without root, and is byte-for-byte
 * reproducible (fixed owner, fixed mtime, entries in the order given).
 *
 * Entry layout: a 110-byte ASCII header ("070701" + 13 fields of 8 hex
 * digits), the NUL-terminated name, padding to 4 bytes, the data, padding to
 * 4 bytes. The archive ends with an entry named "TRAILER!!!".
 */

export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Uint8Array; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

const NEWC_MAGIC = '070701';
const HEADER_LENGTH = 110;
const TRAILER = 'TRAILER!!!';
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function pad4(length: number): number {
  return (4 - (length % 4)) % 4;
}

interface RawEntry {
  name: string;
  mode: number;
  data: Uint8Array;
  rdevMajor: number;
  rdevMinor: number;
  nlink: number;
}

function rawEntry(entry: CpioEntry): RawEntry {
  // The kernel wants paths relative to the archive root ("bin/busybox").
  const name = entry.path.replace(/^\/+/, '');
  if (name === '' || name.split('/').includes('..'))
    throw new Error(`cpio: bad entry path ${JSON.stringify(entry.path)}`);
  switch (entry.kind) {
    case 'dir':
      return {
        name,
        mode: S_IFDIR | (entry.mode ?? 0o755),
        data: new Uint8Array(0),
        rdevMajor: 0,
        rdevMinor: 0,
        nlink: 2,
      };
    case 'file':
      return { name, mode: S_IFREG | (entry.mode ?? 0o644), data: entry.data, rdevMajor: 0, rdevMinor: 0, nlink: 1 };
    case 'symlink':
      return { name, mode: S_IFLNK | 0o777, data: Buffer.from(entry.target), rdevMajor: 0, rdevMinor: 0, nlink: 1 };
    case 'chardev':
      return {
        name,
        mode: S_IFCHR | (entry.mode ?? 0o600),
        data: new Uint8Array(0),
        rdevMajor: entry.major,
        rdevMinor: entry.minor,
        nlink: 1,
      };
  }
}

function encodeEntry(e: RawEntry, ino: number): Buffer[] {
  const nameBytes = Buffer.from(`${e.name}\0`);
  const header =
    NEWC_MAGIC +
    [
      ino,
      e.mode,
      0, // uid: root
      0, // gid: root
      e.nlink,
      0, // mtime: fixed, so the archive is reproducible
      e.data.length,
      0, // devmajor
      0, // devminor
      e.rdevMajor,
      e.rdevMinor,
      nameBytes.length,
      0, // check (only for the "070702" crc format)
    ]
      .map(hex8)
      .join('');
  const parts: Buffer[] = [
    Buffer.from(header, 'ascii'),
    nameBytes,
    Buffer.alloc(pad4(HEADER_LENGTH + nameBytes.length)),
  ];
  if (e.data.length > 0)
    parts.push(Buffer.from(e.data.buffer, e.data.byteOffset, e.data.length), Buffer.alloc(pad4(e.data.length)));
  return parts;
}

/** The archive of `entries` in the order given (a directory must come before what it holds). */
export function writeCpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((entry, i) => parts.push(...encodeEntry(rawEntry(entry), i + 1)));
  parts.push(
    ...encodeEntry({ name: TRAILER, mode: 0, data: new Uint8Array(0), rdevMajor: 0, rdevMinor: 0, nlink: 1 }, 0),
  );
  return Buffer.concat(parts);
}

export interface CpioListing {
  name: string;
  mode: number;
  size: number;
  /** The entry's data (a view into the archive). */
  data: Buffer;
}

/** The entries of a newc archive, in order (without the trailer). For tests and image checks. */
export function listCpioNewc(archive: Uint8Array): CpioListing[] {
  const buf = Buffer.from(archive.buffer, archive.byteOffset, archive.length);
  const out: CpioListing[] = [];
  let off = 0;
  while (off + HEADER_LENGTH <= buf.length) {
    if (buf.toString('ascii', off, off + 6) !== NEWC_MAGIC) throw new Error(`cpio: no newc header at offset ${off}`);
    const field = (i: number) => parseInt(buf.toString('ascii', off + 6 + i * 8, off + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const name = buf.toString('utf8', off + HEADER_LENGTH, off + HEADER_LENGTH + nameSize - 1);
    if (name === TRAILER) return out;
    off += HEADER_LENGTH + nameSize;
    off += pad4(off);
    out.push({ name, mode, size, data: buf.subarray(off, off + size) });
    off += size + pad4(size);
  }
  throw new Error('cpio: archive ends without a trailer');
}
