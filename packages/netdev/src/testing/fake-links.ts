import { checkAttachable } from '../attach-check.js';
import { NetdevError } from '../errors.js';
import type { LinkDescription, LinkInfo } from '../link-info.js';
import { LinkMonitor } from '../link-monitor.js';
import type { PacketBatch } from '../packet-batch.js';
import { checkSlots } from '../slot-check.js';
import { checkInterfaceName } from '../tap-device.js';
import type { AttachedDeviceStats, AttachedFrameDevice, OpenAttachedOptions } from '../types.js';
import { FakeFrameDevice } from './fake-frame-device.js';

/**
 * A fake network namespace's links, for unit tests of code that attaches
 * ports and follows link events (the agent), with no kernel:
 *  - add(name, …) / remove(name) / setUp(name, up) / setMtu(name, mtu)
 *    change the table, and every monitor from openMonitor() emits what the
 *    real monitor would (`link:new`, `link:del`, `link:up`/`link:down`,
 *    `link:change`) on a later loop turn (await settle() for them);
 *  - describe(name) answers as describeLink();
 *  - open(options) attaches a FakeAttachedDevice, refusing as the real
 *    openAttachedDevice does (same rule: attach-check.ts);
 *  - remove(name) makes every device attached to that link gone: its
 *    readable handler runs, read() throws DVS_DEVICE_GONE, write() drops and
 *    counts; add(name) again is "the device came back" (a new ifindex).
 */
export interface FakeLinkOptions {
  /** LinkInfo.kind; default 'tap'. 'loopback' makes a loopback. */
  kind?: string;
  mtu?: number;
  /** Admin and carrier up; default true. */
  up?: boolean;
  /** Default a locally administered MAC made from the ifindex. */
  mac?: string;
  /** Default true (false: a TUN or an IP tunnel: not attachable). */
  ethernet?: boolean;
}

export class FakeLinks {
  private readonly links = new Map<string, LinkInfo>();
  private readonly monitors = new Set<FakeLinkMonitor>();
  private readonly devices = new Set<FakeAttachedDevice>();
  private nextIndex = 2;

  constructor() {
    this.links.set('lo', this.info('lo', 1, { kind: 'loopback', mtu: 65536 }));
  }

  /** Creates a link (or brings one of that name back, with a new ifindex). */
  add(name: string, options: FakeLinkOptions = {}): LinkInfo {
    checkInterfaceName(name);
    if (this.links.has(name)) throw new NetdevError('DVS_NAME_IN_USE', `a link named ${name} exists`);
    const link = this.info(name, this.nextIndex++, options);
    this.links.set(name, link);
    this.notify(link, false);
    return link;
  }

  /** Deletes a link: link:del, and the devices attached to it are gone. */
  remove(name: string): void {
    const link = this.require(name);
    this.links.delete(name);
    for (const device of this.devices) if (device.ifindex === link.ifindex) device.markGone();
    this.notify(link, true);
  }

  /** Admin and carrier state together: link:up / link:down; attached devices drop writes while down. */
  setUp(name: string, up: boolean): void {
    const link = { ...this.require(name), adminUp: up, carrier: up, up, operState: up ? 'up' : 'down' } as const;
    this.update(link);
    for (const device of this.devices) if (device.ifindex === link.ifindex) device.linkUp = up;
  }

  setMtu(name: string, mtu: number): void {
    this.update({ ...this.require(name), mtu });
  }

  describe(name: string): LinkDescription {
    checkInterfaceName(name);
    const link = this.links.get(name);
    return link === undefined ? { exists: false, name } : { exists: true, ...link };
  }

  /** Attaches a fake device, with the real refusals (DVS_NO_DEVICE, DVS_DEVICE_UNSUITABLE, name codes). */
  open(options: OpenAttachedOptions): FakeAttachedDevice {
    options.signal?.throwIfAborted();
    const link = this.describe(options.name);
    checkAttachable(link);
    const device = new FakeAttachedDevice(this, link, options.offloads === true);
    device.linkUp = link.up;
    this.devices.add(device);
    return device;
  }

  /** A monitor of these links, as openLinkMonitor() (the table as it is now, events from now on). */
  openMonitor(): FakeLinkMonitor {
    const monitor = new FakeLinkMonitor([...this.links.values()], () => this.monitors.delete(monitor));
    this.monitors.add(monitor);
    return monitor;
  }

  /** Resolves once every event queued so far has been emitted. */
  async settle(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** @internal the MTU a fake attached device reports. */
  mtuOf(ifindex: number, fallback: number): number {
    for (const link of this.links.values()) if (link.ifindex === ifindex) return link.mtu;
    return fallback;
  }

  /** @internal */
  forget(device: FakeAttachedDevice): void {
    this.devices.delete(device);
  }

  private update(link: LinkInfo): void {
    this.links.set(link.name, link);
    this.notify(link, false);
  }

  private notify(link: LinkInfo, deleted: boolean): void {
    for (const monitor of this.monitors) monitor.notify(link, deleted);
  }

  private require(name: string): LinkInfo {
    const link = this.links.get(name);
    if (link === undefined) throw new NetdevError('DVS_NO_DEVICE', `no fake link ${name}`);
    return link;
  }

  private info(name: string, ifindex: number, options: FakeLinkOptions): LinkInfo {
    const up = options.up ?? true;
    const kind = options.kind ?? 'tap';
    return {
      ifindex,
      name,
      mtu: options.mtu ?? 1500,
      kind,
      mac:
        options.mac ??
        `02:00:00:00:${((ifindex >> 8) & 0xff).toString(16).padStart(2, '0')}:${(ifindex & 0xff).toString(16).padStart(2, '0')}`,
      adminUp: up,
      carrier: up,
      up,
      operState: up ? 'up' : 'down',
      ethernet: kind !== 'loopback' && (options.ethernet ?? true),
      loopback: kind === 'loopback',
      masterIndex: 0,
      parentIndex: 0,
    };
  }
}

/** A LinkMonitor fed by FakeLinks; events come on a later loop turn, like the real one's. */
export class FakeLinkMonitor extends LinkMonitor {
  private scheduled = false;

  /** Use FakeLinks.openMonitor(). */
  constructor(
    links: LinkInfo[],
    private readonly onClose: () => void,
  ) {
    super();
    this.seed(links);
  }

  /** @internal called by FakeLinks */
  notify(link: LinkInfo, deleted: boolean): void {
    if (this.isClosed) return;
    this.applyChange(link, deleted);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  override close(): void {
    if (this.isClosed) return;
    super.close();
    this.onClose();
  }
}

/**
 * A FakeFrameDevice attached to a FakeLinks link: the AttachedFrameDevice
 * contract of the real one (types.ts, attached-device.ts) for what a unit
 * test can observe — gone after remove(), link-down drops after setUp(false),
 * the MTU the link has now. inject()/takeWritten() as FakeFrameDevice.
 */
export class FakeAttachedDevice extends FakeFrameDevice implements AttachedFrameDevice {
  declare readonly stats: AttachedDeviceStats;
  readonly ifindex: number;
  readonly kind: string;
  private isGone = false;
  private goneReported = false;

  constructor(
    private readonly links: FakeLinks,
    link: LinkInfo,
    offloads = false,
  ) {
    super({ name: link.name, mtu: link.mtu, vnetHeaderLength: offloads ? 10 : 0 });
    this.ifindex = link.ifindex;
    this.kind = link.kind;
    Object.assign(this.stats, { writeDropsQueueFull: 0, vlanTagsRestored: 0, readDropsNoVnetHeader: 0 });
  }

  get gone(): boolean {
    return this.isGone;
  }

  override get mtu(): number {
    return this.links.mtuOf(this.ifindex, super.mtu);
  }

  /** @internal called by FakeLinks.remove(): reads stop, the readable handler runs once to hear it. */
  markGone(): void {
    this.isGone = true;
    this.pokeReadable();
  }

  override read(batch: PacketBatch, headroom: number): number {
    this.assertOpen();
    if (this.isGone) {
      this.goneReported = true;
      throw new NetdevError('DVS_DEVICE_GONE', `attached device ${this.name} (ifindex ${this.ifindex}) was deleted`);
    }
    return super.read(batch, headroom);
  }

  override write(batch: PacketBatch, slots: ArrayLike<number>, n: number): number {
    if (!this.isGone) return super.write(batch, slots, n);
    this.assertOpen();
    checkSlots(batch, slots, n);
    for (let i = 0; i < n; i++) {
      if (batch.lengths[slots[i]] < 14) this.stats.writeDropsInvalid++;
      else this.stats.writeDropsLinkDown++;
    }
    return n;
  }

  override close(): void {
    super.close();
    this.links.forget(this);
  }

  protected override hasPendingRead(): boolean {
    return super.hasPendingRead() || (this.isGone && !this.goneReported);
  }
}
