import { ControllerQos } from './ports/controller-qos.js';
import { ENCAPS, type IpfixSettings, type PortBinding, type SflowSettings } from '@dvs/wire';
import type { Agent } from './agent.js';
import type { TableChange } from './datapath/control-surface.js';
import type { EtcdSync, LocalPortInfo } from './etcd-sync/index.js';
import type { Logger } from './observe/logger.js';
import { ReportThrottle } from './report-throttle.js';
import { statusConflicts } from './status-conflicts.js';

/** How often the tunnel status record is refreshed in etcd besides state changes. */
const STATUS_PERIOD_MS = 5000;

export interface AgentEtcd {
  sync: EtcdSync;
  /** Stops publishing and the sync; `revoke` drops the lease so this host leaves the tables at once. */
  stop(revoke: boolean): Promise<void>;
}

/**
 * Connects a running Agent to etcd when its config has an `etcd:` section:
 * the data path follows networks/fdb/flood/hosts through apply(), its MAC
 * events become reports, its ports and tunnel status are published on the
 * host's lease. etcd-sync/ (and etcd3) is loaded only then. Without etcd the
 * agent runs from its static config and this returns null.
 */
export async function startAgentEtcd(agent: Agent, logger: Logger, signal?: AbortSignal): Promise<AgentEtcd | null> {
  const etcd = agent.config.etcd;
  if (etcd === null) return null;
  const { EtcdSync } = await import('./etcd-sync/index.js');
  const reports = new ReportThrottle(agent.dataPath, {
    ratePerSecond: agent.config.fdb.reportsPerSecond,
    burst: agent.config.fdb.reportBurst,
  });
  agent.addMetricSource(() => reports.metricLines(agent.host));
  const { leaseTtlSeconds, ...connection } = etcd.options as { leaseTtlSeconds?: number } & Record<string, unknown>;
  const controllerQos = new ControllerQos(agent, (message, port) =>
    logger.warn("the controller's QoS for a port was refused", { port, error: message }),
  );
  agent.on('ports:changed', () => controllerQos.portsChanged());
  const sync = new EtcdSync({
    host: agent.host,
    vtep: { address: agent.config.vtep.address, port: agent.config.vtep.vxlanPort },
    encapPorts: { vxlan: agent.config.vtep.vxlanPort, 'gre-udp': agent.config.vtep.grePort },
    encaps: [...ENCAPS],
    labels: agent.config.labels,
    datapath: agent.vxlanOwner,
    // Only when not the defaults (gre-udp 4754; vxlan is vtep.port).
    ...(agent.config.vtep.grePort !== 4754 ? { encapPorts: { 'gre-udp': agent.config.vtep.grePort } } : {}),
    agentVersion: agent.version,
    // The kernel's vxlan devices own the VXLAN port: peers probe this host on its probe port.
    ...(agent.vxlanOwnerProvider === 'kernel' ? { probePort: agent.config.vtep.probePort } : {}),
    etcd: { ...connection, endpoints: etcd.endpoints },
    prefix: etcd.prefix,
    ...(leaseTtlSeconds !== undefined ? { leaseTtlSeconds } : {}),
    surface: agent.dataPath,
    events: reports,
    log: logger,
    mirrors: (config) => agent.dataPath.setMirrors(config),
    portQos: (qos) => controllerQos.set(qos),
    // The cluster's flow export; this host's own setting (config, admin socket) stays over it.
    flowExport: (exporter, settings) =>
      void (exporter === 'sflow'
        ? agent.flowExportSources.setClusterSflow(settings as SflowSettings | null)
        : agent.flowExportSources.setClusterIpfix(settings as IpfixSettings | null)),
    ...(signal !== undefined ? { signal } : {}),
  });
  agent.setPeerInfo({
    isExternal: (v) =>
      [...sync.tables.networks.values()].some((n) =>
        n.record.externalVteps.some((e) => e.address === v.address && e.port === v.port),
      ),
    hostOf: (v) => [...sync.tables.hosts.values()].find((h) => h.record.vtep.address === v.address)?.record.host,
    probePortOf: (v) => {
      const host = [...sync.tables.hosts.values()].find((h) => h.record.vtep.address === v.address);
      return host === undefined ? undefined : (host.record.probePort ?? null);
    },
  });
  const publishPorts = (): void => sync.publishPorts(localPorts(agent));
  agent.on('ports:changed', publishPorts);
  // A network's overlay MTU came or changed: the ports' device MTUs are checked against it again.
  const onTables = (changes: readonly TableChange[]): void => {
    if (changes.some((c) => c.kind === 'network:set')) agent.networksChanged();
  };
  sync.on('tables:applied', onTables);
  // A full read of the tables: what a kernel datapath holds beyond them (from before a restart) is stale.
  const onLoaded = (): void => agent.dataPath.tablesLoaded();
  sync.on('sync:loaded', onLoaded);
  const health = agent.health;
  const ownVtep = `${agent.config.vtep.address}:${agent.config.vtep.vxlanPort}`;
  // Tunnel health and learn conflicts (dvs status shows each conflict as a problem).
  const publishStatus = (): void => {
    const conflicts = statusConflicts(agent.dataPath.learnConflicts(), ownVtep);
    if (health === null && conflicts.length === 0) return;
    const record = health?.statusRecord() ?? { host: agent.host, peers: [], updatedAt: Date.now() };
    sync.publishTunnelStatus(conflicts.length > 0 ? { ...record, conflicts } : record);
  };
  const unsubscribe = health?.monitor.on('tunnel:state', publishStatus);
  // etcd away: no controller can confirm a move, so learning decides until it is back.
  const controlPlaneDown = (): void => agent.dataPath.setControlPlaneUp(false);
  const controlPlaneUp = (): void => agent.dataPath.setControlPlaneUp(true);
  sync.on('etcd:down', controlPlaneDown);
  sync.on('etcd:up', controlPlaneUp);
  agent.dataPath.on('mac:conflict', publishStatus);
  const timer = setInterval(publishStatus, STATUS_PERIOD_MS);
  timer.unref();
  publishPorts();
  publishStatus();
  sync.start();
  logger.info('etcd sync starting', { endpoints: etcd.endpoints.join(','), prefix: etcd.prefix });
  return {
    sync,
    async stop(revoke) {
      clearInterval(timer);
      agent.setPeerInfo(null);
      agent.off('ports:changed', publishPorts);
      sync.off('tables:applied', onTables);
      sync.off('sync:loaded', onLoaded);
      unsubscribe?.();
      agent.dataPath.off('mac:conflict', publishStatus);
      sync.off('etcd:down', controlPlaneDown);
      sync.off('etcd:up', controlPlaneUp);
      await sync.stop({ revoke });
      reports.close();
    },
  };
}

function localPorts(agent: Agent): LocalPortInfo[] {
  const macs = new Map<string, number>();
  for (const e of agent.dataPath.fdbEntries())
    if (e.kind === 'port') macs.set(e.location, (macs.get(e.location) ?? 0) + 1);
  return agent.portViews().map((p) => {
    const bindings: PortBinding[] =
      p.mode === 'access'
        ? [{ vni: p.vni as number, vlan: null }]
        : Object.entries(p.vlans).map(([vlan, vni]) => ({ vni, vlan: Number(vlan) }));
    return {
      port: p.name,
      mode: p.mode,
      bindings,
      state: p.state,
      macCount: macs.get(p.name) ?? 0,
      kind: p.kind,
      deviceKind: p.deviceKind,
      since: p.since,
    };
  });
}
