import { errnoName } from './errno-names.js';
import { NetdevError } from './errors.js';
import { FdWatcher } from './fd-watcher.js';
import { FDB_RECORD_SIZE, describeFdbChange, encodeFdbChanges } from './fdb-change.js';
import type { FdbChange } from './fdb-change.js';
import { fdbEntryOf } from './fdb-entry.js';
import type { FdbEntry } from './fdb-entry.js';
import { kernelLinkOf, linkCountersOf } from './kernel-link.js';
import { encodeIpNeighbourChanges, ipNeighbourOf } from './ip-neighbour.js';
import type { IpNeighbour, IpNeighbourChange } from './ip-neighbour.js';
import type { KernelLink, LinkCounters } from './kernel-link.js';
import { bridgeRequest, linkChangeRequest, vxlanRequest } from './kernel-link-spec.js';
import type { BridgeSpec, LinkChange, LinkRef, VxlanSpec } from './kernel-link-spec.js';
import { nativeBinding } from './native-binding.js';
import type { NativeLinkChange, NativeLinkSpec } from './native-binding.js';
import { checkInteger, invalid } from './netlink-check.js';
import { checkReceiveBufferBytes } from './netlink-feed.js';
import { codeFor, hint, toNetdevError } from './system-error.js';
import type { NetdevErrorCode } from './errors.js';

export interface OpenRtnetlinkOptions {
  /**
   * FDB changes per sendmsg, 1..4096 (default 256). Each is acked; the acks
   * of one batch must fit the receive buffer.
   */
  fdbBatchMessages?: number;
  /** The socket's receive buffer (default 4 MiB: the acks of the largest batch with room to spare). */
  receiveBufferBytes?: number;
}

export interface ApplyFdbOptions {
  /** Aborting stops between chunks: the changes before are applied, the rest are not sent. */
  signal?: AbortSignal;
  /** Changes per turn of the event loop (default 4096): the loop waits at most for one chunk. */
  chunkSize?: number;
}

/** One change the kernel (or the device lookup) refused. The others were applied regardless. */
export interface FdbApplyFailure {
  /** Its index in the changes given. */
  readonly index: number;
  readonly change: FdbChange;
  readonly code: NetdevErrorCode;
  /** 'EEXIST', 'ENOENT', 'ENODEV', … */
  readonly errno: string;
  /** Names the change and the device, with the kernel's reason when it gave one. */
  readonly message: string;
}

export interface FdbApplyResult {
  /** How many changes the kernel took. */
  readonly applied: number;
  /** The refused ones, in order. */
  readonly failed: readonly FdbApplyFailure[];
}

const DEFAULT_BATCH_MESSAGES = 256;
const MAX_BATCH_MESSAGES = 4096;
const DEFAULT_RECEIVE_BUFFER = 4 * 1024 * 1024;
const DEFAULT_CHUNK = 4096;
/** A batch checked and written as records, and what the kernel answered so far. */
interface EncodedBatch {
  records: Buffer;
  /** sent[j]: the index in the changes of record j. */
  sent: number[];
  missing: Map<number, string>;
  errors: Int32Array;
  /** Record index → the kernel's text for a refused one. */
  kernelText: Map<number, string>;
}

/**
 * Programs the kernel's own switching devices over one rtnetlink socket: the
 * host I/O of a kernel datapath. Links (bridges, vxlan devices, bridge ports),
 * FDB entries in batches, FDB dumps and link counters.
 *
 * The socket lives in the network namespace where openRtnetlink() ran and
 * every request goes there, wherever the calling thread is later. Calls are
 * synchronous (the kernel answers while it processes), except applyFdb(),
 * which yields to the event loop between chunks.
 *
 * Device references (LinkRef) are names or ifindexes in that namespace.
 * Errors are NetdevError: DVS_NETLINK_INVALID (refused before sending,
 * naming the field), DVS_NO_DEVICE, DVS_NETLINK_EXISTS, DVS_NETLINK_REFUSED,
 * DVS_NETLINK_UNSUPPORTED (with the kernel's own reason), DVS_PERMISSION,
 * DVS_CLOSED.
 */
export class Rtnetlink {
  private readonly handle: FdWatcher;
  private isClosed = false;

  /** Use openRtnetlink(). */
  constructor(
    fd: number,
    private readonly batchMessages: number,
  ) {
    this.handle = new FdWatcher(fd);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** The link now, or undefined when there is none of that name/ifindex. */
  link(ref: LinkRef): KernelLink | undefined {
    const fd = this.fd();
    const byName = typeof ref === 'string';
    if (!byName) checkInteger(ref, 'ifindex', 1, 0x7fffffff);
    const records = this.call(`read link ${ref}`, () =>
      nativeBinding().rtnlLinks(fd, byName ? ref : '', byName ? 0 : ref, false),
    );
    return records.length === 0 ? undefined : kernelLinkOf(records[0]);
  }

  /** Every link, by ifindex. */
  links(): KernelLink[] {
    const fd = this.fd();
    return this.call('list links', () => nativeBinding().rtnlLinks(fd, '', 0, false))
      .map(kernelLinkOf)
      .sort((a, b) => a.ifindex - b.ifindex);
  }

  /**
   * Counters of the links asked for (all when none are named), read in one
   * dump, by ifindex. A named link that does not exist is simply absent.
   */
  linkCounters(refs?: readonly LinkRef[]): LinkCounters[] {
    const fd = this.fd();
    const wanted = refs === undefined ? null : new Set<LinkRef>(refs);
    return this.call('read link counters', () => nativeBinding().rtnlLinks(fd, '', 0, true))
      .filter((r) => wanted === null || wanted.has(r.name) || wanted.has(r.ifindex))
      .map(linkCountersOf)
      .filter((c): c is LinkCounters => c !== null)
      .sort((a, b) => a.ifindex - b.ifindex);
  }

  /** Creates a bridge (DVS_NETLINK_EXISTS when the name is taken) and returns it as the kernel holds it. */
  createBridge(spec: BridgeSpec): KernelLink {
    const request = bridgeRequest(spec);
    return this.create(request, spec.alias, undefined);
  }

  /**
   * Creates a vxlan device, enslaved to `master` when given, with the bridge
   * port's learning off unless `learning` is true. Created and configured
   * completely, or not at all (a failed second step deletes the device).
   */
  createVxlan(spec: VxlanSpec): KernelLink {
    const request = vxlanRequest(spec, (ref, field) => this.resolve(ref, field));
    const learning = request.vxlan?.learning ?? false;
    const bridgePort = request.master === undefined ? undefined : { learning, ...spec.bridgePort };
    return this.create(request, spec.alias, bridgePort);
  }

  /** Changes a link; returns it as the kernel holds it afterwards. */
  setLink(ref: LinkRef, change: LinkChange): KernelLink {
    const ifindex = this.resolve(ref, 'link');
    const { bridgePort, ...rest } = linkChangeRequest(change, (r, field) => this.resolve(r, field));
    // The bridge reads port flags only from a port it already has: enslave first.
    if (Object.keys(rest).length > 0) this.set(ifindex, rest, `set link ${ref}`);
    if (bridgePort !== undefined) this.set(ifindex, { bridgePort }, `set bridge port ${ref}`);
    return this.mustExist(ifindex, ref);
  }

  /** Deletes a link (DVS_NO_DEVICE when there is none). A vxlan device's FDB goes with it. */
  deleteLink(ref: LinkRef): void {
    const ifindex = this.resolve(ref, 'link');
    const fd = this.fd();
    this.call(`delete link ${ref}`, () => nativeBinding().rtnlLinkDelete(fd, ifindex));
  }

  /**
   * Applies FDB changes in batches of `fdbBatchMessages` per sendmsg, each
   * acked. Every change is checked before anything is sent (DVS_NETLINK_INVALID
   * naming `changes[i].field`); after that, a refused change (a missing device,
   * an entry that exists or does not) is reported in `failed` with its errno,
   * and every other change is still applied. Synchronous: for a few thousand
   * changes, or when the loop may wait; applyFdb() yields between chunks.
   */
  applyFdbSync(changes: readonly FdbChange[]): FdbApplyResult {
    const batch = this.encode(changes);
    this.send(batch, 0, batch.sent.length);
    return this.result(changes, batch);
  }

  /**
   * applyFdbSync() in chunks of `chunkSize`, yielding to the event loop
   * between them. Every change is checked and every device name resolved
   * before the first chunk goes.
   */
  async applyFdb(changes: readonly FdbChange[], options: ApplyFdbOptions = {}): Promise<FdbApplyResult> {
    const chunk = options.chunkSize ?? DEFAULT_CHUNK;
    checkInteger(chunk, 'chunkSize', 1, 2 ** 31 - 1);
    const batch = this.encode(changes);
    for (let start = 0; start < batch.sent.length; start += chunk) {
      options.signal?.throwIfAborted();
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      this.send(batch, start, Math.min(batch.sent.length, start + chunk));
    }
    return this.result(changes, batch);
  }

  /**
   * The FDB entries of one device (`device`: its own and its bridge-port
   * entries) and/or of every port of a bridge (`master`), or all when
   * neither is given. Unknown devices: DVS_NO_DEVICE.
   */
  fdb(filter: { device?: LinkRef; master?: LinkRef } = {}): FdbEntry[] {
    const ifindex = filter.device === undefined ? 0 : this.resolve(filter.device, 'device');
    const master = filter.master === undefined ? 0 : this.resolve(filter.master, 'master');
    const fd = this.fd();
    return this.call('dump fdb', () => nativeBinding().fdbDump(fd, ifindex, master)).map(fdbEntryOf);
  }

  /**
   * Applies IP neighbour changes (ip-neighbour.ts), each acked, in one
   * sendmsg per 4096. Every change is checked and its device resolved before
   * anything is sent (DVS_NETLINK_INVALID, DVS_NO_DEVICE); after that, a
   * refused one is reported in `failed` and the others are applied.
   */
  applyIpNeighbours(changes: readonly IpNeighbourChange[]): {
    failed: { index: number; errno: string; message: string }[];
  } {
    const fd = this.fd();
    const encoded = encodeIpNeighbourChanges(changes, (ref, field) => this.resolve(ref, field));
    const failed: { index: number; errno: string; message: string }[] = [];
    for (let start = 0; start < encoded.length; start += 4096) {
      const part = encoded.slice(start, start + 4096);
      for (const f of this.call('apply ip neighbours', () => nativeBinding().ipNeighApply(fd, part))) {
        const errno = errnoName(f.errno);
        const c = changes[start + f.index]!;
        const reason = f.message === '' ? errno : `${errno}; kernel: ${f.message}`;
        failed.push({ index: start + f.index, errno, message: `neigh ${c.op} ${c.address} on ${c.device}: ${reason}` });
      }
    }
    return { failed };
  }

  /** The IPv4 and IPv6 neighbours of a device (DVS_NO_DEVICE when there is none). */
  ipNeighbours(device: LinkRef): IpNeighbour[] {
    const ifindex = this.resolve(device, 'device');
    const fd = this.fd();
    return this.call('dump ip neighbours', () => nativeBinding().ipNeighDump(fd, ifindex)).map(ipNeighbourOf);
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.handle.close();
  }

  private encode(changes: readonly FdbChange[]): EncodedBatch {
    this.fd();
    if (!Array.isArray(changes)) invalid('changes', 'must be an array of FDB changes');
    const names = this.nameTable(changes);
    const encoded = encodeFdbChanges(changes, (name) => names.get(name) ?? 0);
    return { ...encoded, errors: new Int32Array(encoded.sent.length), kernelText: new Map() };
  }

  /** Sends records [from, to) of the batch; their errors land in batch.errors. */
  private send(batch: EncodedBatch, from: number, to: number): void {
    const fd = this.fd();
    const records = batch.records.subarray(from * FDB_RECORD_SIZE, to * FDB_RECORD_SIZE);
    const texts = this.call('apply fdb', () =>
      nativeBinding().fdbApply(fd, records, to - from, batch.errors.subarray(from, to), this.batchMessages),
    );
    for (const t of texts) batch.kernelText.set(from + t.index, t.message);
  }

  private result(changes: readonly FdbChange[], batch: EncodedBatch): FdbApplyResult {
    const failed: FdbApplyFailure[] = [];
    for (const [i, device] of batch.missing) {
      const change = changes[i];
      const message = `${describeFdbChange(change)}: no device ${device} in this network namespace (ENODEV)`;
      failed.push({ index: i, change, code: 'DVS_NO_DEVICE', errno: 'ENODEV', message });
    }
    batch.sent.forEach((i, j) => {
      if (batch.errors[j] === 0) return;
      const errno = errnoName(batch.errors[j]);
      const code = codeFor('RTM_NEWNEIGH', errno);
      const detail = batch.kernelText.get(j);
      const reason = detail === undefined ? errno : `${errno}; kernel: ${detail}`;
      const message = `${describeFdbChange(changes[i])}: ${hint(code)} (${reason})`;
      failed.push({ index: i, change: changes[i], code, errno, message });
    });
    failed.sort((a, b) => a.index - b.index);
    return { applied: changes.length - failed.length, failed };
  }

  /** Name → ifindex for the names a batch uses (one dump, only when it names devices). */
  private nameTable(changes: readonly FdbChange[]): Map<string, number> {
    const table = new Map<string, number>();
    if (!changes.some((c) => typeof c?.device === 'string' || typeof c?.via === 'string')) return table;
    for (const link of this.links()) table.set(link.name, link.ifindex);
    return table;
  }

  private create(
    request: NativeLinkSpec,
    alias: string | undefined,
    bridgePort: NativeLinkChange['bridgePort'],
  ): KernelLink {
    const fd = this.fd();
    const what = `create ${request.kind} ${request.name}`;
    this.call(what, () => nativeBinding().rtnlLinkCreate(fd, request));
    const created = this.mustExist(request.name, request.name);
    try {
      // The kernel takes an alias only on an existing link.
      if (alias !== undefined) this.set(created.ifindex, { alias }, `${what}: set alias`);
      if (bridgePort !== undefined) this.set(created.ifindex, { bridgePort }, `${what}: set bridge port`);
    } catch (err) {
      this.call(`${what}: undo`, () => nativeBinding().rtnlLinkDelete(fd, created.ifindex));
      throw err;
    }
    return this.mustExist(created.ifindex, request.name);
  }

  private set(ifindex: number, change: NativeLinkChange, what: string): void {
    const fd = this.fd();
    this.call(what, () => nativeBinding().rtnlLinkSet(fd, ifindex, change));
  }

  private mustExist(ref: LinkRef, name: LinkRef): KernelLink {
    const link = this.link(ref);
    if (link === undefined) throw new NetdevError('DVS_NO_DEVICE', `link ${name} is gone`);
    return link;
  }

  private resolve(ref: LinkRef, field: string): number {
    if (typeof ref === 'number') return checkInteger(ref, field, 1, 0x7fffffff);
    if (typeof ref !== 'string' || ref === '') invalid(field, 'must be a device name or an ifindex');
    const link = this.link(ref);
    if (link === undefined)
      throw new NetdevError('DVS_NO_DEVICE', `${field} ${ref}: no such device in this network namespace`);
    return link.ifindex;
  }

  private fd(): number {
    if (this.isClosed) throw new NetdevError('DVS_CLOSED', 'the rtnetlink socket is closed');
    return this.handle.fd;
  }

  private call<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw toNetdevError(err, what);
    }
  }
}

/**
 * Opens an rtnetlink socket in this thread's network namespace (run it
 * inside the namespace: the socket stays there). Throws NetdevError
 * (DVS_PERMISSION, DVS_NATIVE_UNAVAILABLE, DVS_IO) or RangeError for bad options.
 */
export function openRtnetlink(options: OpenRtnetlinkOptions = {}): Rtnetlink {
  const batch = options.fdbBatchMessages ?? DEFAULT_BATCH_MESSAGES;
  if (!Number.isInteger(batch) || batch < 1 || batch > MAX_BATCH_MESSAGES) {
    throw new RangeError(`fdbBatchMessages must be an integer of 1..${MAX_BATCH_MESSAGES}, got ${batch}`);
  }
  checkReceiveBufferBytes(options.receiveBufferBytes);
  const buffer = options.receiveBufferBytes ?? DEFAULT_RECEIVE_BUFFER;
  let fd: number;
  try {
    fd = nativeBinding().rtnlOpen(buffer);
  } catch (err) {
    throw toNetdevError(err, 'open rtnetlink');
  }
  return new Rtnetlink(fd, batch);
}
