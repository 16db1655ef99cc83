/**
 * Which flow export settings are in force on this host, and from where.
 *
 * Two sources per exporter (sFlow, IPFIX):
 *  - the host's own: the agent config's `flowExport:` at start, then the
 *    admin socket's `sflow/set` / `ipfix/set` (`off` included: no export on
 *    this host, whatever the cluster says); `sflow/clear` drops it;
 *  - the cluster's: the controller's `flow-export/sflow|ipfix` record in
 *    etcd, followed by etcd-sync.
 * The host's own setting wins; without one, the cluster's applies; without
 * either, the exporter is off. `show` says which source is in force.
 *
 * A host setting that is refused (bad field, collector that does not
 * resolve) throws and changes nothing. A cluster setting this host cannot
 * apply (its collector does not resolve here) turns the exporter off on
 * this host, is logged, and shows as the cluster's problem until the next
 * change of the record (or of the host's setting) tries again. Changes are
 * applied one at a time, in the order they came.
 */
import type { IpfixSettings, SflowSettings } from '@dvs/wire';
import type { FlowExport, IpfixView, SflowView } from './flow-export.js';

export type FlowExportSource = 'host' | 'cluster';

/** A host's own setting: settings, `off`, or null (none: the cluster's applies). */
export type HostSetting<T> = T | 'off' | null;

export interface SourcedView {
  /** Where the settings in force come from; null: off (no setting from either, or the host's `off`). */
  source: FlowExportSource | null;
  host: HostSetting<SflowSettings | IpfixSettings>;
  cluster: SflowSettings | IpfixSettings | null;
  /** Why the cluster's settings are not in force here although no host setting overrides them. */
  clusterProblem: string | null;
}

export type SourcedSflowView = SflowView & SourcedView;
export type SourcedIpfixView = IpfixView & SourcedView;

interface Slot<T> {
  host: HostSetting<T>;
  cluster: T | null;
  /** The source of what runs now. */
  applied: FlowExportSource | null;
  clusterProblem: string | null;
}

type Exporter = 'sflow' | 'ipfix';

export class FlowExportSources {
  private readonly slots: { sflow: Slot<SflowSettings>; ipfix: Slot<IpfixSettings> } = {
    sflow: { host: null, cluster: null, applied: null, clusterProblem: null },
    ipfix: { host: null, cluster: null, applied: null, clusterProblem: null },
  };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly flows: FlowExport,
    private readonly warn: (message: string, fields: Record<string, string>) => void = () => {},
  ) {}

  /** The host's own sFlow setting (null: none, follow the cluster); throws FlowExportError, changing nothing. */
  setHostSflow(setting: HostSetting<SflowSettings>, signal?: AbortSignal): Promise<SourcedSflowView> {
    return this.serial(async () => {
      await this.applyHost('sflow', setting, signal);
      return this.sflowView();
    });
  }

  setHostIpfix(setting: HostSetting<IpfixSettings>, signal?: AbortSignal): Promise<SourcedIpfixView> {
    return this.serial(async () => {
      await this.applyHost('ipfix', setting, signal);
      return this.ipfixView();
    });
  }

  /** The cluster's sFlow settings as etcd has them now (null: none); never throws. */
  setClusterSflow(settings: SflowSettings | null): Promise<void> {
    return this.serial(() => this.applyCluster('sflow', settings));
  }

  setClusterIpfix(settings: IpfixSettings | null): Promise<void> {
    return this.serial(() => this.applyCluster('ipfix', settings));
  }

  sflowView(): SourcedSflowView {
    return { ...this.flows.sflowView(), ...this.sourced(this.slots.sflow) };
  }

  ipfixView(): SourcedIpfixView {
    return { ...this.flows.ipfixView(), ...this.sourced(this.slots.ipfix) };
  }

  private sourced<T extends SflowSettings | IpfixSettings>(slot: Slot<T>): SourcedView {
    return { source: slot.applied, host: slot.host, cluster: slot.cluster, clusterProblem: slot.clusterProblem };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async set(exporter: Exporter, settings: SflowSettings | IpfixSettings | null, signal?: AbortSignal) {
    if (exporter === 'sflow') await this.flows.setSflow(settings as SflowSettings | null, signal);
    else await this.flows.setIpfix(settings as IpfixSettings | null, signal);
  }

  private async applyHost<T extends SflowSettings | IpfixSettings>(
    exporter: Exporter,
    setting: HostSetting<T>,
    signal?: AbortSignal,
  ): Promise<void> {
    const slot = this.slots[exporter] as Slot<T>;
    if (setting !== null) {
      await this.set(exporter, setting === 'off' ? null : setting, signal);
      slot.host = setting;
      slot.applied = setting === 'off' ? null : 'host';
      return;
    }
    // The host's setting goes: the cluster's takes over, or nothing when it cannot be applied here.
    slot.host = null;
    await this.fallBackToCluster(exporter, slot);
  }

  private async applyCluster<T extends SflowSettings | IpfixSettings>(exporter: Exporter, settings: T | null) {
    const slot = this.slots[exporter] as Slot<T>;
    if (JSON.stringify(slot.cluster) === JSON.stringify(settings) && slot.clusterProblem === null) return;
    slot.cluster = settings;
    slot.clusterProblem = null;
    if (slot.host !== null) return;
    await this.fallBackToCluster(exporter, slot);
  }

  private async fallBackToCluster<T extends SflowSettings | IpfixSettings>(exporter: Exporter, slot: Slot<T>) {
    try {
      await this.set(exporter, slot.cluster);
      slot.applied = slot.cluster === null ? null : 'cluster';
      slot.clusterProblem = null;
    } catch (err) {
      slot.clusterProblem = (err as Error).message;
      await this.set(exporter, null);
      slot.applied = null;
      this.warn(`the cluster's ${exporter} settings were refused on this host: ${exporter} off here`, {
        error: slot.clusterProblem,
      });
    }
  }
}
