/**
 * Reads a whole key range in pages, all at one revision: the first page at
 * whatever revision etcd is at (R), every later page pinned to R and starting
 * just after the last key of the page before. So a range of any size arrives
 * as one consistent snapshot, never as one gRPC message larger than the
 * client accepts (etcd3's default 4 MiB receive limit failed a 9 MB read with
 * `RESOURCE_EXHAUSTED: Received message larger than max`).
 *
 *  - A page that is still too large for the client (a few huge values) is
 *    asked again with half the keys, down to one key per page.
 *  - When R is compacted while the pages are read, the read starts over at
 *    the newest revision (at most `maxRestarts` times, then the error).
 *  - `signal` stops between pages.
 */
import type { Etcd3, IKeyValue } from 'etcd3';

export interface FollowedKv {
  key: string;
  value: Buffer;
  modRevision: number;
  createRevision: number;
  /** Lease id ('0': none). */
  lease: string;
}

/** The keys followed: every key under `prefix`, or the range [start, end). */
export type KeyRange = { prefix: string } | { start: string; end: string };

export interface RangeReadOptions {
  /** Keys asked per request (default 1000); halved for a page the client cannot receive. */
  pageSize?: number;
  /** Keys only, values empty (default false). */
  keysOnly?: boolean;
  /** Read over again at most this often when the pinned revision is compacted (default 3). */
  maxRestarts?: number;
  signal?: AbortSignal;
}

export interface RangeRead {
  kvs: FollowedKv[];
  /** The revision every page was read at. */
  revision: number;
  /** Requests made (pages, retried pages included). */
  requests: number;
}

export const DEFAULT_PAGE_SIZE = 1000;

export function toFollowedKv(kv: IKeyValue): FollowedKv {
  return {
    key: kv.key.toString(),
    value: kv.value,
    modRevision: Number(kv.mod_revision),
    createRevision: Number(kv.create_revision),
    lease: String(kv.lease),
  };
}

/** The end of a prefix range: the prefix with its last byte incremented (etcd's convention). */
export function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // every key
}

export function rangeBounds(range: KeyRange): { start: Buffer; end: Buffer } {
  return 'prefix' in range
    ? { start: Buffer.from(range.prefix), end: prefixEnd(range.prefix) }
    : { start: Buffer.from(range.start), end: Buffer.from(range.end) };
}

/** The client could not receive a message this large (gRPC status 8). */
export function isMessageTooLarge(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; name?: unknown };
  return (
    e?.code === 8 ||
    e?.name === 'GRPCResourceExhastedError' ||
    (typeof e?.message === 'string' && /RESOURCE_EXHAUSTED|larger than max/.test(e.message))
  );
}

/** etcd no longer has the revision asked for. */
export function isCompacted(err: unknown): boolean {
  const message = (err as { message?: unknown })?.message;
  return typeof message === 'string' && message.includes('required revision has been compacted');
}

export async function readRange(client: Etcd3, range: KeyRange, options: RangeReadOptions = {}): Promise<RangeRead> {
  const maxRestarts = options.maxRestarts ?? 3;
  let requests = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      const read = await readPinned(client, range, options);
      return { ...read, requests: requests + read.requests };
    } catch (err) {
      if (!(err instanceof PinnedReadError)) throw err;
      requests += err.requests;
      if (!isCompacted(err.cause) || attempt >= maxRestarts) throw err.cause;
    }
  }
}

class PinnedReadError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly requests: number,
  ) {
    super((cause as Error)?.message ?? String(cause));
  }
}

async function readPinned(client: Etcd3, range: KeyRange, options: RangeReadOptions): Promise<RangeRead> {
  const { start, end } = rangeBounds(range);
  let pageSize = Math.max(1, options.pageSize ?? DEFAULT_PAGE_SIZE);
  const kvs: FollowedKv[] = [];
  let revision = 0;
  let requests = 0;
  let from = start;
  for (;;) {
    options.signal?.throwIfAborted();
    let res;
    try {
      requests++;
      res = await client.kv.range({
        key: from,
        range_end: end,
        limit: pageSize,
        ...(revision > 0 ? { revision: String(revision) } : {}),
        ...(options.keysOnly === true ? { keys_only: true } : {}),
      });
    } catch (err) {
      if (isMessageTooLarge(err) && pageSize > 1) {
        pageSize = Math.max(1, Math.floor(pageSize / 2));
        continue;
      }
      throw new PinnedReadError(err, requests);
    }
    if (revision === 0) revision = Number(res.header.revision);
    for (const kv of res.kvs) kvs.push(toFollowedKv(kv));
    if (!res.more || res.kvs.length === 0) return { kvs, revision, requests };
    // The next page starts at the smallest key after the last one: that key plus a zero byte.
    from = Buffer.concat([res.kvs[res.kvs.length - 1]!.key, Buffer.from([0])]);
  }
}
