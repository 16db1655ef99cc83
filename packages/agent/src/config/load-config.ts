import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_PORT_PLUG, LABEL_SYNTAX, PORT_PLUGS, parseLabel } from '@dvs/wire';
import type { AgentConfig } from './agent-config.js';
import { ConfigError } from './config-error.js';
import { parsePortMapping } from './port-mapping-text.js';
import { validateConfig } from './validate-config.js';

/** Command-line options of dvs-agent (see `dvs-agent --help`). */
export const FLAG_OPTIONS = {
  config: { type: 'string', short: 'c' },
  host: { type: 'string' },
  label: { type: 'string', multiple: true },
  'vtep-address': { type: 'string' },
  'vxlan-port': { type: 'string' },
  'gre-port': { type: 'string' },
  'admin-socket': { type: 'string' },
  'state-file': { type: 'string' },
  metrics: { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  aging: { type: 'string' },
  'fdb-limit': { type: 'string' },
  network: { type: 'string', multiple: true },
  peer: { type: 'string', multiple: true },
  port: { type: 'string', multiple: true },
  check: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

export interface LoadedConfig {
  config: AgentConfig | null;
  help: boolean;
  version: boolean;
  /** --check: validate the configuration and exit, start nothing. */
  check: boolean;
}

/**
 * Reads `--config` (YAML; JSON is YAML too), overlays the flags, validates.
 * Throws ConfigError (DVS_CONFIG_INVALID) for any problem, flags included.
 */
export async function loadConfig(argv: readonly string[]): Promise<LoadedConfig> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: FLAG_OPTIONS, strict: true, allowPositionals: false });
  } catch (err) {
    throw new ConfigError('command line', (err as Error).message, 'see dvs-agent --help');
  }
  const flags = parsed.values;
  if (flags.help === true || flags.version === true)
    return { config: null, help: flags.help === true, version: flags.version === true, check: false };
  let raw: Record<string, unknown> = {};
  if (flags.config !== undefined) raw = await readConfigFile(flags.config);
  overlayFlags(raw, flags);
  return { config: validateConfig(raw), help: false, version: false, check: flags.check === true };
}

/** Parses a YAML config text (for tests and the loader). */
export function parseConfigText(text: string, source = 'config'): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      source,
      `is not valid YAML (${(err as Error).message.split('\n')[0]})`,
      'fix the YAML syntax',
    );
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new ConfigError(source, 'must be a YAML mapping', 'write key: value pairs at the top level');
  return doc as Record<string, unknown>;
}

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      '--config',
      `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      'give the path of a readable YAML file',
    );
  }
  return parseConfigText(text, path);
}

type Flags = {
  [K in keyof typeof FLAG_OPTIONS]?: (typeof FLAG_OPTIONS)[K] extends { multiple: true } ? string[] : string | boolean;
};

function overlayFlags(raw: Record<string, unknown>, flags: Flags): void {
  const sub = (key: string): Record<string, unknown> => {
    const v = raw[key];
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    const o: Record<string, unknown> = {};
    raw[key] = o;
    return o;
  };
  if (flags.host !== undefined) raw.host = flags.host;
  for (const spec of flags.label ?? []) {
    const parsed = parseLabel(spec);
    if (parsed === null)
      throw new ConfigError('--label', `"${spec}" is not a label`, `write ${LABEL_SYNTAX}, e.g. --label rack=r1`);
    sub('labels')[parsed.key] = parsed.value;
  }
  if (flags['vtep-address'] !== undefined) sub('vtep').address = flags['vtep-address'];
  if (flags['vxlan-port'] !== undefined) sub('vtep').vxlanPort = flags['vxlan-port'];
  if (flags['gre-port'] !== undefined) sub('vtep').grePort = flags['gre-port'];
  if (flags['admin-socket'] !== undefined) raw.adminSocket = flags['admin-socket'];
  if (flags['state-file'] !== undefined) raw.stateFile = flags['state-file'] === 'off' ? null : flags['state-file'];
  if (flags.metrics !== undefined) raw.metrics = flags.metrics === 'off' ? null : flags.metrics;
  if (flags['log-level'] !== undefined) raw.logLevel = flags['log-level'];
  if (flags['log-format'] !== undefined) raw.logFormat = flags['log-format'];
  if (flags.aging !== undefined) sub('fdb').agingSeconds = flags.aging;
  if (flags['fdb-limit'] !== undefined) sub('fdb').maxEntriesPerVni = flags['fdb-limit'];
  const networks = (Array.isArray(raw.networks) ? raw.networks : (raw.networks = [])) as Record<string, unknown>[];
  for (const spec of flags.network ?? []) {
    const m = /^(\d+)(?::(vxlan|gre-udp))?(?::(\d+))?$/.exec(spec);
    if (m === null)
      throw new ConfigError('--network', `"${spec}" is not VNI[:ENCAP[:MTU]]`, 'write e.g. --network 100:vxlan:1450');
    const vni = Number(m[1]);
    let n = networks.find((x) => typeof x === 'object' && x !== null && Number(x.vni) === vni);
    if (n === undefined) networks.push((n = { vni }));
    if (m[2] !== undefined) n.encap = m[2];
    if (m[3] !== undefined) n.mtu = Number(m[3]);
  }
  for (const spec of flags.peer ?? []) {
    const m = /^(\d+)=(.+)$/.exec(spec);
    if (m === null)
      throw new ConfigError('--peer', `"${spec}" is not VNI=ADDRESS[:PORT]`, 'write e.g. --peer 100=198.51.100.2');
    const n = networks.find((x) => typeof x === 'object' && x !== null && Number(x.vni) === Number(m[1]));
    if (n === undefined)
      throw new ConfigError(
        '--peer',
        `VNI ${m[1]} has no network`,
        `add --network ${m[1]} (or list it in the config file) first`,
      );
    n.peers = [...(Array.isArray(n.peers) ? n.peers : []), m[2]];
  }
  const ports = (Array.isArray(raw.ports) ? raw.ports : (raw.ports = [])) as unknown[];
  const plugs = PORT_PLUGS.join('|');
  for (const spec of flags.port ?? []) {
    const m = new RegExp(`^([^=]+)=([^/]+)(?:/(${plugs}))?(/persistent)?$`).exec(spec);
    if (m === null)
      throw new ConfigError(
        '--port',
        `"${spec}" is not NAME=MAPPING[/${plugs}][/persistent]`,
        'write e.g. --port tap0=100, --port vnet3=100/attach or --port tap1=trunk:10=100,20=200/create/persistent',
      );
    const mapping = parsePortMapping(m[2]);
    if (typeof mapping === 'string')
      throw new ConfigError('--port', mapping, 'write the mapping as a VNI or trunk:<vlan>=<vni>,…');
    const how = { plug: m[3] ?? DEFAULT_PORT_PLUG, ...(m[4] !== undefined ? { persistent: true } : {}) };
    ports.push(
      mapping.mode === 'access'
        ? { name: m[1], vni: mapping.vni, ...how }
        : { name: m[1], mode: 'trunk', vlans: Object.fromEntries(mapping.vlans), ...how },
    );
  }
}
