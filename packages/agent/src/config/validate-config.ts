import { portSecurityConfig } from './port-security-config.js';
import {
  MAX_BURST_KB,
  MAX_RATE_KBPS,
  MIN_BURST_KB,
  defaultBurstKb,
  type PolicerSpec,
  type PortQos,
} from '../datapath/token-bucket.js';
import {
  DEFAULT_PORT_PLUG,
  PORT_PLUGS,
  DEFAULT_OVERLAY_MTU,
  ENCAPS,
  FLOW_EXPORTED,
  type NetworkFlowExport,
  LABEL_SYNTAX,
  MAX_HOST_LABELS,
  MAX_OVERLAY_MTU,
  MIN_OVERLAY_MTU,
  canonicalIpAddress,
  ipFamily,
  isHostId,
  isLabelKey,
  isLabelValue,
  isValidVlanId,
  isValidVni,
  parseMac,
  type Encap,
} from '@dvs/wire';
import type { Vtep } from '../datapath/control-surface.js';
import { resolveHealthOptions, type HealthOptions } from '../health/health-options.js';
import {
  CONFIG_DEFAULTS,
  type HealthConfig,
  type AgentConfig,
  type EtcdConfig,
  type NetworkConfig,
  type PortConfig,
  type StaticFdbConfig,
} from './agent-config.js';
import { LOOP_SPIN_MAX_US } from '@dvs/netdev';
import { ConfigError } from './config-error.js';
import { mirrorsConfig } from './mirror-config.js';
import { sourcePortsConfig } from './source-ports-config.js';
import { FlowExportError, flowExportFromConfig, type FlowExportConfig } from '../flow-export/flow-export-config.js';
import { DATAPATH_CHOICES, isDatapathChoice, type DatapathChoice } from '../dpif/provider.js';
import { placeNetwork, vxlanOwner } from '../dpif/datapath-choice.js';

/**
 * Raw YAML/JSON (already merged with flags) → AgentConfig. Throws the first
 * problem as a ConfigError naming the field and the fix. Unknown fields are
 * errors too: a misspelt option silently ignored is a trap.
 */
export function validateConfig(raw: unknown): AgentConfig {
  const top = object(raw, '(top level)', 'write the config as a YAML mapping (key: value)');
  known(top, '', [
    'host',
    'labels',
    'vtep',
    'adminSocket',
    'metrics',
    'logLevel',
    'logFormat',
    'fdb',
    'networks',
    'ports',
    'stateFile',
    'etcd',
    'health',
    'datapath',
    'mirrors',
    'mirrorSinks',
    'offloads',
    'busyPollUs',
    'flowExport',
  ]);
  const host = string(top.host, 'host', 'set `host: <host id>`, e.g. host-a (or --host)');
  if (!isHostId(host)) {
    throw new ConfigError('host', `"${host}" is not a host id`, 'use letters, digits, ".", "_" and "-" (at most 63)');
  }
  const labels = labelsConfig(top.labels);
  const vtepRaw = object(top.vtep, 'vtep', 'set `vtep: { address: <underlay address> }` (or --vtep-address)');
  known(vtepRaw, 'vtep', ['address', 'vxlanPort', 'grePort', 'probePort', 'sourcePorts']);
  const address = string(vtepRaw.address, 'vtep.address', 'set the underlay IPv4 or IPv6 address of this host');
  if (ipFamily(address) === 0)
    throw new ConfigError(
      'vtep.address',
      `"${address}" is not an IP address`,
      'give the underlay IPv4 (198.51.100.1) or IPv6 (2001:db8::1) address, no zone',
    );
  const vxlanPort = optionalPort(vtepRaw.vxlanPort, 'vtep.vxlanPort', CONFIG_DEFAULTS.vxlanPort);
  const grePort = optionalPort(vtepRaw.grePort, 'vtep.grePort', CONFIG_DEFAULTS.grePort);
  if (vxlanPort === grePort)
    throw new ConfigError(
      'vtep.grePort',
      `equals vtep.vxlanPort (${vxlanPort})`,
      'give the two encaps different UDP ports (defaults 4789 and 4754)',
    );
  const probePort = optionalPort(vtepRaw.probePort, 'vtep.probePort', CONFIG_DEFAULTS.probePort);
  const sourcePorts = sourcePortsConfig(vtepRaw.sourcePorts);
  if (probePort === vxlanPort || probePort === grePort)
    throw new ConfigError(
      'vtep.probePort',
      `equals vtep.${probePort === vxlanPort ? 'vxlanPort' : 'grePort'} (${probePort})`,
      `give the kernel datapath's tunnel probes a UDP port of their own (default ${CONFIG_DEFAULTS.probePort})`,
    );

  const adminSocket =
    top.adminSocket === undefined
      ? CONFIG_DEFAULTS.adminSocket
      : string(top.adminSocket, 'adminSocket', 'give a filesystem path, e.g. /run/dvs/agent.sock');
  const stateFile =
    top.stateFile === undefined
      ? CONFIG_DEFAULTS.stateFile
      : top.stateFile === null || top.stateFile === false || top.stateFile === 'off'
        ? null
        : string(
            top.stateFile,
            'stateFile',
            'give a file path, e.g. /var/lib/dvs/agent-state.json (or off: run-time ports are not kept)',
          );
  const metrics =
    top.metrics === undefined || top.metrics === null || top.metrics === false
      ? null
      : hostPort(top.metrics, 'metrics');
  const logLevel = oneOf(top.logLevel ?? CONFIG_DEFAULTS.logLevel, 'logLevel', [
    'debug',
    'info',
    'warn',
    'error',
  ] as const);
  const logFormat = oneOf(top.logFormat ?? CONFIG_DEFAULTS.logFormat, 'logFormat', ['json', 'logfmt'] as const);

  const fdbRaw =
    top.fdb === undefined ? {} : object(top.fdb, 'fdb', 'write `fdb: { agingSeconds: 300, maxEntriesPerVni: 8192 }`');
  known(fdbRaw, 'fdb', [
    'agingSeconds',
    'maxEntriesPerVni',
    'confirmMoveMs',
    'localHoldMs',
    'reportsPerSecond',
    'reportBurst',
  ]);
  const fdbInteger = (field: string, min: number, max: number, dflt: number, unit: string): number =>
    fdbRaw[field] === undefined
      ? dflt
      : integer(fdbRaw[field], `fdb.${field}`, min, max, `give ${unit}, ${min}..${max} (default ${dflt})`);
  const reportsPerSecond = fdbInteger('reportsPerSecond', 1, 100_000, CONFIG_DEFAULTS.reportsPerSecond, 'a rate');
  const reportBurst = fdbInteger(
    'reportBurst',
    1,
    1_000_000,
    Math.max(CONFIG_DEFAULTS.reportBurst, reportsPerSecond),
    'a count',
  );
  const confirmMoveMs = fdbInteger('confirmMoveMs', 50, 60_000, CONFIG_DEFAULTS.confirmMoveMs, 'milliseconds');
  const localHoldMs = fdbInteger('localHoldMs', 0, 600_000, CONFIG_DEFAULTS.localHoldMs, 'milliseconds');
  const agingSeconds = fdbInteger('agingSeconds', 1, 86400, CONFIG_DEFAULTS.agingSeconds, 'seconds');
  const maxEntriesPerVni = fdbInteger('maxEntriesPerVni', 1, 1_000_000, CONFIG_DEFAULTS.maxEntriesPerVni, 'a count');

  const ports = { vxlan: vxlanPort, 'gre-udp': grePort };
  const networks = list(top.networks, 'networks').map((n, i) => network(n, `networks[${i}]`, ports));
  // The tunnel sockets are bound to vtep.address: every peer must be of its family.
  const family = ipFamily(address);
  networks.forEach((n, i) => {
    for (const [field, list] of [
      ['peers', n.peers],
      ['externalVteps', n.externalVteps],
      ['floodList', n.floodList],
    ] as const) {
      list.forEach((v, k) => {
        if (ipFamily(v.address) !== family)
          throw new ConfigError(
            `networks[${i}].${field}[${k}]`,
            `${v.address} is IPv${ipFamily(v.address)} but vtep.address is IPv${family}`,
            'use peers of the underlay family of vtep.address',
          );
      });
    }
  });
  const vnis = new Set<number>();
  networks.forEach((n, i) => {
    if (vnis.has(n.vni))
      throw new ConfigError(`networks[${i}].vni`, `VNI ${n.vni} is listed twice`, 'list each network once');
    vnis.add(n.vni);
  });
  const portList = list(top.ports, 'ports').map((p, i) => port(p, `ports[${i}]`, vnis));
  const names = new Set<string>();
  portList.forEach((p, i) => {
    if (names.has(p.name))
      throw new ConfigError(`ports[${i}].name`, `port ${p.name} is listed twice`, 'list each port once');
    names.add(p.name);
  });
  networks.forEach((n, i) =>
    n.fdb.forEach((e, k) => {
      if (e.port !== undefined && !names.has(e.port)) {
        throw new ConfigError(
          `networks[${i}].fdb[${k}].port`,
          `no port named ${e.port}`,
          'name a port listed under ports:',
        );
      }
    }),
  );
  const etcd = top.etcd === undefined || top.etcd === null ? null : etcdConfig(top.etcd);
  const health = healthConfig(top.health);
  const datapath = datapathChoice(top.datapath, 'datapath');
  const offloads =
    oneOf(top.offloads === true ? 'on' : top.offloads === false ? 'off' : (top.offloads ?? 'on'), 'offloads', [
      'on',
      'off',
    ] as const) === 'on';
  const busyPollUs =
    top.busyPollUs === undefined
      ? 0
      : integer(
          top.busyPollUs,
          'busyPollUs',
          0,
          LOOP_SPIN_MAX_US,
          `give microseconds to spin after traffic before sleeping, 0..${LOOP_SPIN_MAX_US} (0, the default: off; 50..200 is the useful range)`,
        );
  checkDatapaths(datapath, networks);
  const mirrors = mirrorsConfig(top.mirrors, top.mirrorSinks, new Set(networks.map((n) => n.vni)));
  const flowExport = flowExportConfig(top.flowExport);
  return {
    host,
    labels,
    vtep: { address: canonicalIpAddress(address) as string, vxlanPort, grePort, probePort, sourcePorts },
    adminSocket,
    metrics,
    logLevel,
    logFormat,
    fdb: { agingSeconds, maxEntriesPerVni, confirmMoveMs, localHoldMs, reportsPerSecond, reportBurst },
    networks,
    ports: portList,
    stateFile,
    etcd,
    health,
    datapath,
    mirrors,
    offloads,
    busyPollUs,
    flowExport,
  };
}

function flowExportConfig(raw: unknown): FlowExportConfig {
  try {
    return flowExportFromConfig(raw);
  } catch (err) {
    if (!(err instanceof FlowExportError)) throw err;
    const [field, ...rest] = err.message.split(': ');
    throw new ConfigError(field!, rest.join(': '), 'see docs/agent.md, "Flow export"');
  }
}

function datapathChoice(raw: unknown, path: string): DatapathChoice {
  if (raw === undefined) return 'userspace';
  if (!isDatapathChoice(raw))
    throw new ConfigError(path, `"${String(raw)}" is not a datapath`, `give one of ${DATAPATH_CHOICES.join(', ')}`);
  return raw;
}

/**
 * One UDP port, one owner (dpif/datapath-choice.ts): a network may not ask for
 * the provider its host cannot give it. Whether the kernel provider can run
 * at all is known only at start; everything else is refused here, before
 * anything starts.
 */
function checkDatapaths(agent: DatapathChoice, networks: NetworkConfig[]): void {
  // Assume the kernel is there: what fails only without it fails at start, with its reason.
  const owner = vxlanOwner(agent, { available: true }, networks);
  if ('problem' in owner) throw new ConfigError('datapath', owner.problem, 'set datapath: userspace or auto');
  networks.forEach((n, i) => {
    const placed = placeNetwork(n, owner);
    if (!placed.ok) throw new ConfigError(`networks[${i}].datapath`, placed.problem, placed.fix);
  });
}

function network(raw: unknown, path: string, ports: Record<Encap, number>): NetworkConfig {
  const n = object(raw, path, 'write each network as `{ vni: 100, encap: vxlan, mtu: 1450, peers: [...] }`');
  known(n, path, [
    'vni',
    'name',
    'encap',
    'mtu',
    'peers',
    'externalVteps',
    'floodList',
    'fdb',
    'datapath',
    'arpSuppression',
    'flowExport',
  ]);
  const vni = integer(n.vni, `${path}.vni`, 1, 16777215, 'give the VNI, 1..16777215');
  if (!isValidVni(vni)) throw new ConfigError(`${path}.vni`, 'invalid VNI', 'give 1..16777215');
  const name = n.name === undefined ? `vni-${vni}` : string(n.name, `${path}.name`, 'give a short name');
  const encap = oneOf(n.encap ?? 'vxlan', `${path}.encap`, ENCAPS);
  const mtu = integer(
    n.mtu ?? DEFAULT_OVERLAY_MTU,
    `${path}.mtu`,
    MIN_OVERLAY_MTU,
    MAX_OVERLAY_MTU,
    `give the overlay MTU, ${MIN_OVERLAY_MTU}..${MAX_OVERLAY_MTU}: underlay MTU − 50 for VXLAN/IPv4 (${DEFAULT_OVERLAY_MTU} on a 1500-byte underlay)`,
  );
  const peers = list(n.peers, `${path}.peers`).map((v, i) => vtep(v, `${path}.peers[${i}]`, ports[encap]));
  const externalVteps = list(n.externalVteps, `${path}.externalVteps`).map((v, i) =>
    vtep(v, `${path}.externalVteps[${i}]`, ports[encap]),
  );
  const floodList =
    n.floodList === undefined
      ? [...peers, ...externalVteps]
      : list(n.floodList, `${path}.floodList`).map((v, i) => vtep(v, `${path}.floodList[${i}]`, ports[encap]));
  const fdb = list(n.fdb, `${path}.fdb`).map((e, i) => staticFdb(e, `${path}.fdb[${i}]`, ports[encap]));
  if (n.arpSuppression !== undefined && typeof n.arpSuppression !== 'boolean')
    throw new ConfigError(
      `${path}.arpSuppression`,
      'must be true or false',
      'write arpSuppression: true or leave it out',
    );
  const datapath = n.datapath === undefined ? 'auto' : datapathChoice(n.datapath, `${path}.datapath`);
  return {
    vni,
    name,
    encap,
    mtu,
    peers,
    externalVteps,
    floodList,
    fdb,
    datapath,
    arpSuppression: n.arpSuppression === true,
    flowExport: networkFlowExportConfig(n.flowExport, `${path}.flowExport`),
  };
}

/** `flowExport: { sflow: false }`: each exporter left out stays on (as the network record's flowExport). */
function networkFlowExportConfig(raw: unknown, path: string): NetworkFlowExport {
  if (raw === undefined) return { ...FLOW_EXPORTED };
  const f = object(raw, path, 'write `flowExport: { sflow: false, ipfix: true }` or leave it out');
  known(f, path, ['sflow', 'ipfix']);
  const flag = (key: 'sflow' | 'ipfix'): boolean => {
    if (f[key] === undefined) return true;
    if (typeof f[key] !== 'boolean')
      throw new ConfigError(`${path}.${key}`, 'must be true or false', `write ${key}: false or leave it out`);
    return f[key];
  };
  return { sflow: flag('sflow'), ipfix: flag('ipfix') };
}

function staticFdb(raw: unknown, path: string, defaultPort: number): StaticFdbConfig {
  const e = object(raw, path, 'write `{ mac: 02:00:00:00:00:01, vtep: 198.51.100.2 }` or `{ mac: …, port: tap0 }`');
  known(e, path, ['mac', 'vtep', 'port']);
  const text = string(e.mac, `${path}.mac`, 'give a MAC like 02:00:00:00:00:01 (quote it in YAML)');
  const mac = parseMac(text);
  if (mac === null)
    throw new ConfigError(`${path}.mac`, `"${text}" is not a MAC`, 'give six hex octets separated by ":"');
  if ((e.vtep === undefined) === (e.port === undefined))
    throw new ConfigError(
      path,
      'needs exactly one of vtep or port',
      'give `vtep:` for a remote MAC or `port:` for a local one',
    );
  if (e.port !== undefined) return { mac, port: string(e.port, `${path}.port`, 'name a local port') };
  return { mac, vtep: vtep(e.vtep, `${path}.vtep`, defaultPort) };
}

function port(raw: unknown, path: string, vnis: Set<number>): PortConfig {
  const p = object(
    raw,
    path,
    'write each port as `{ name: tap0, vni: 100 }` or `{ name: tap1, mode: trunk, vlans: { 10: 100 } }`',
  );
  if (p.attach !== undefined)
    throw new ConfigError(
      `${path}.attach`,
      'is now called plug',
      `write plug: ${PORT_PLUGS.join(', plug: ')} (attach: adopt becomes plug: adopt)`,
    );
  known(p, path, ['name', 'mode', 'vni', 'vlans', 'plug', 'persistent', 'security', 'qos']);
  const name = string(p.name, `${path}.name`, 'give the device name (a TAP, a veth end, a macvlan, a NIC)');
  if (Buffer.byteLength(name) > 15 || !/^[A-Za-z0-9._-]+$/.test(name)) {
    throw new ConfigError(
      `${path}.name`,
      `"${name}" is not an interface name`,
      'use at most 15 letters, digits, ".", "_" or "-"',
    );
  }
  const mode = oneOf(p.mode ?? (p.vlans !== undefined ? 'trunk' : 'access'), `${path}.mode`, [
    'access',
    'trunk',
  ] as const);
  const plug = oneOf(p.plug ?? DEFAULT_PORT_PLUG, `${path}.plug`, PORT_PLUGS);
  if (p.persistent !== undefined && typeof p.persistent !== 'boolean')
    throw new ConfigError(`${path}.persistent`, 'must be true or false', 'write persistent: true or leave it out');
  const persistent = p.persistent === true;
  if (persistent && plug !== 'create')
    throw new ConfigError(
      `${path}.persistent`,
      `applies to TAPs the agent creates, not to plug: ${plug}`,
      plug === 'adopt'
        ? 'remove it: an adopted TAP keeps the persistence it was made with (ip tuntap add makes it persistent)'
        : 'remove it: an attached device belongs to whoever made it, the agent never deletes it',
    );
  const how = {
    plug,
    persistent,
    qos: portQos(p.qos, `${path}.qos`),
    ...(p.security !== undefined ? { security: portSecurityConfig(p.security, `${path}.security`, name) } : {}),
  };
  const checkVni = (vni: number, field: string): void => {
    if (vnis.size > 0 && !vnis.has(vni))
      throw new ConfigError(field, `VNI ${vni} has no network`, 'add it under networks: or use a listed VNI');
  };
  if (mode === 'access') {
    if (p.vlans !== undefined)
      throw new ConfigError(`${path}.vlans`, 'an access port has no VLAN map', 'remove vlans or set mode: trunk');
    const vni = integer(p.vni, `${path}.vni`, 1, 16777215, 'give the VNI of the access port');
    checkVni(vni, `${path}.vni`);
    return { name, mode, vni, ...how };
  }
  if (p.vni !== undefined)
    throw new ConfigError(`${path}.vni`, 'a trunk port maps VLANs, not one VNI', 'use `vlans: { 10: 100, 20: 200 }`');
  const map = object(p.vlans, `${path}.vlans`, 'give `vlans: { <vlan>: <vni>, … }`');
  const vlans = new Map<number, number>();
  const seen = new Set<number>();
  for (const [k, v] of Object.entries(map)) {
    const vlan = Number(k);
    if (!isValidVlanId(vlan))
      throw new ConfigError(`${path}.vlans.${k}`, `"${k}" is not a VLAN id`, 'use VLAN ids 1..4094');
    const vni = integer(v, `${path}.vlans.${k}`, 1, 16777215, 'map the VLAN to a VNI, 1..16777215');
    if (seen.has(vni))
      throw new ConfigError(`${path}.vlans.${k}`, `VNI ${vni} is mapped from two VLANs`, 'map each VNI from one VLAN');
    checkVni(vni, `${path}.vlans.${k}`);
    seen.add(vni);
    vlans.set(vlan, vni);
  }
  if (vlans.size === 0) throw new ConfigError(`${path}.vlans`, 'is empty', 'map at least one VLAN to a VNI');
  return { name, mode, vlans, ...how };
}

/** `qos: { ingress: { rate: 20000, burst: 2000 }, egress: { rate: 100000 } }`: kbit/s and kbit (token-bucket.ts). */
function portQos(raw: unknown, path: string): PortQos {
  if (raw === undefined || raw === null) return { ingress: null, egress: null };
  const q = object(raw, path, 'write `qos: { ingress: { rate: 20000, burst: 2000 } }` (kbit/s, kbit)');
  known(q, path, ['ingress', 'egress']);
  const policer = (v: unknown, at: string): PolicerSpec | null => {
    if (v === undefined || v === null) return null;
    const o = object(v, at, 'write `{ rate: 20000, burst: 2000 }` (kbit/s, kbit; burst optional)');
    known(o, at, ['rate', 'burst']);
    const rateKbps = integer(o.rate, `${at}.rate`, 1, MAX_RATE_KBPS, `give the rate in kbit/s, 1..${MAX_RATE_KBPS}`);
    const burstKb =
      o.burst === undefined
        ? defaultBurstKb(rateKbps)
        : integer(
            o.burst,
            `${at}.burst`,
            MIN_BURST_KB,
            MAX_BURST_KB,
            `give the burst in kbit, at least ${MIN_BURST_KB} (one jumbo frame), or leave it out (a tenth of the rate)`,
          );
    return { rateKbps, burstKb };
  };
  return { ingress: policer(q.ingress, `${path}.ingress`), egress: policer(q.egress, `${path}.egress`) };
}

function healthConfig(raw: unknown): HealthConfig {
  if (raw === undefined || raw === null) return { enabled: true, options: {} };
  const h = object(raw, 'health', 'write `health: { enabled: true, intervalMs: 1000 }`');
  known(h, 'health', ['enabled', 'intervalMs', 'multiplier', 'upAfter', 'windowSize', 'removedLingerMs']);
  if (h.enabled !== undefined && typeof h.enabled !== 'boolean')
    throw new ConfigError('health.enabled', 'must be true or false', 'write enabled: true or enabled: false');
  const options: Partial<HealthOptions> = {};
  for (const key of ['intervalMs', 'multiplier', 'upAfter', 'windowSize', 'removedLingerMs'] as const) {
    if (h[key] !== undefined) options[key] = h[key] as number;
  }
  try {
    resolveHealthOptions(options);
  } catch (err) {
    const field = (err as { field?: string }).field ?? '';
    throw new ConfigError(
      `health.${field}`,
      (err as Error).message.replace(/^health\.\w+: /, ''),
      'see docs/agent.md for the ranges',
    );
  }
  return { enabled: h.enabled !== false, options };
}

/** `labels: { rack: r1 }`: what this host says about itself (networks may admit hosts by label). */
function labelsConfig(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  const o = object(raw, 'labels', 'write labels as a mapping, e.g. `labels: { rack: r1, tenant: blue }`');
  const keys = Object.keys(o);
  if (keys.length > MAX_HOST_LABELS)
    throw new ConfigError('labels', `has ${keys.length} labels`, `give at most ${MAX_HOST_LABELS}`);
  const out: Record<string, string> = {};
  for (const key of keys) {
    const value = o[key];
    const text = typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
    if (!isLabelKey(key) || !isLabelValue(text))
      throw new ConfigError(
        `labels.${key}`,
        `${JSON.stringify(key)}: ${JSON.stringify(value)} is not a label`,
        `write ${LABEL_SYNTAX}`,
      );
    out[key] = text;
  }
  return out;
}

const ETCD_OPTIONS = {
  caFile: 'string',
  certFile: 'string',
  keyFile: 'string',
  username: 'string',
  password: 'string',
  callTimeoutMs: 'number',
  leaseTtlSeconds: 'number',
} as const;

function etcdConfig(raw: unknown): EtcdConfig {
  const e = object(raw, 'etcd', 'write `etcd: { endpoints: [http://127.0.0.1:2379] }`');
  known(e, 'etcd', ['endpoints', 'prefix', ...Object.keys(ETCD_OPTIONS)]);
  for (const [key, type] of Object.entries(ETCD_OPTIONS)) {
    if (e[key] !== undefined && typeof e[key] !== type)
      throw new ConfigError(`etcd.${key}`, `must be a ${type}`, `give etcd.${key} as a ${type}`);
  }
  const endpoints = list(e.endpoints, 'etcd.endpoints').map((v, i) =>
    string(v, `etcd.endpoints[${i}]`, 'give a URL like http://127.0.0.1:2379'),
  );
  if (endpoints.length === 0)
    throw new ConfigError(
      'etcd.endpoints',
      'is empty',
      'list at least one etcd URL, or remove etcd: to run from static config',
    );
  const prefix =
    e.prefix === undefined
      ? CONFIG_DEFAULTS.etcdPrefix
      : string(e.prefix, 'etcd.prefix', 'give a key prefix like /dvs/v1/');
  const options: Record<string, unknown> = { ...e };
  delete options.endpoints;
  delete options.prefix;
  return { endpoints, prefix, options };
}

/** "198.51.100.2", "198.51.100.2:4789", "2001:db8::2", "[2001:db8::2]:4789" or { address, port? }. */
export function vtep(raw: unknown, path: string, defaultPort: number): Vtep {
  let address: string;
  let port = defaultPort;
  if (typeof raw === 'string') {
    const m =
      /^\[([^\]]+)\](?::(\d+))?$/.exec(raw) ?? /^([^:]+)(?::(\d+))?$/.exec(raw) ?? /^([0-9A-Fa-f:.]+)()$/.exec(raw);
    if (m === null)
      throw new ConfigError(
        path,
        `"${raw}" is not a VTEP`,
        'write address or address:port, e.g. 198.51.100.2:4789 or [2001:db8::2]:4789',
      );
    address = m[1];
    if (m[2] !== undefined && m[2] !== '') port = Number(m[2]);
  } else {
    const o = object(raw, path, 'write a VTEP as "198.51.100.2" or { address: 198.51.100.2, port: 4789 }');
    known(o, path, ['address', 'port']);
    address = string(o.address, `${path}.address`, 'give the peer underlay address');
    if (o.port !== undefined) port = integer(o.port, `${path}.port`, 1, 65535, 'give a UDP port 1..65535');
  }
  const canonical = canonicalIpAddress(address);
  if (canonical === null)
    throw new ConfigError(path, `"${address}" is not an IP address`, 'give the peer underlay IPv4 or IPv6 address');
  if (!(port >= 1 && port <= 65535))
    throw new ConfigError(path, `port ${port} is out of range`, 'give a UDP port 1..65535');
  // One spelling per address ("2001:DB8:0::2" → "2001:db8::2"), as the data path names peers.
  return { address: canonical, port };
}

function hostPort(raw: unknown, path: string): { host: string; port: number } {
  const text = typeof raw === 'number' ? `127.0.0.1:${raw}` : string(raw, path, 'give host:port, e.g. 127.0.0.1:9464');
  const m = /^(.*):(\d+)$/.exec(text);
  if (m === null) throw new ConfigError(path, `"${text}" is not host:port`, 'give host:port, e.g. 127.0.0.1:9464');
  const port = Number(m[2]);
  if (port > 65535) throw new ConfigError(path, `port ${port} is out of range`, 'give a TCP port 0..65535');
  return { host: m[1].replace(/^\[(.*)\]$/, '$1') || '127.0.0.1', port };
}

function object(v: unknown, path: string, fix: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ConfigError(path, v === undefined ? 'is missing' : 'must be a mapping', fix);
  return v as Record<string, unknown>;
}

function list(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ConfigError(path, 'must be a list', `write ${path} as a YAML list (- item)`);
  return v;
}

function string(v: unknown, path: string, fix: string): string {
  if (typeof v !== 'string' || v.length === 0)
    throw new ConfigError(path, v === undefined ? 'is missing' : 'must be a non-empty string', fix);
  return v;
}

function integer(v: unknown, path: string, min: number, max: number, fix: string): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(
      path,
      v === undefined ? 'is missing' : `must be an integer ${min}..${max} (got ${JSON.stringify(v)})`,
      fix,
    );
  }
  return n;
}

function optionalPort(v: unknown, path: string, dflt: number): number {
  return v === undefined ? dflt : integer(v, path, 1, 65535, 'give a UDP port 1..65535');
}

function oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    throw new ConfigError(
      path,
      `must be one of ${values.join(', ')} (got ${JSON.stringify(v)})`,
      `use one of: ${values.join(', ')}`,
    );
  }
  return v as T;
}

function known(o: Record<string, unknown>, path: string, keys: string[]): void {
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) {
      const field = path === '' ? k : `${path}.${k}`;
      throw new ConfigError(
        field,
        'is not a known field',
        `remove it or check its spelling (known here: ${keys.join(', ')})`,
      );
    }
  }
}
