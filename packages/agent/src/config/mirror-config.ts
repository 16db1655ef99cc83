/**
 * Port mirrors as written in the agent's config, for static setups
 * (`mirrors:` and `mirrorSinks:`; with etcd, the controller's mirrors replace
 * them). They become the data path's MirrorConfig, whose own check
 * (datapath/mirror.ts, with wire's shared rules) is the one rule for what is
 * valid:
 *
 *   mirrors:
 *     - name: watch-vm1
 *       sources: [tap-vm1]          # port names; and/or vnis: [100]
 *       direction: both             # ingress | egress | both
 *       output: { port: tap-span }  # SPAN; RSPAN: { vni: 9999, vtep: { address: 198.51.100.2 }, encap: vxlan }
 *   mirrorSinks:
 *     - { vni: 9999, port: tap-analyser }   # RSPAN copies arriving here
 */
import { DEFAULT_ENCAP_PORTS, MIRROR_DIRECTIONS, canonicalIpAddress, isEncap, parseMac } from '@dvs/wire';
import { checkMirrorConfig, type MirrorConfig, type MirrorSpec } from '../datapath/mirror.js';
import { ConfigError } from './config-error.js';

const FIX =
  'see docs/operations.md (port mirroring): name, sources, vnis, direction, output: { port } or { vni, vtep }';
const MIRROR_KEYS = ['name', 'sources', 'vnis', 'direction', 'srcMac', 'dstMac', 'vlan', 'sampleEvery', 'output'];

function mapping(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(path, 'must be a mapping', FIX);
  return v as Record<string, unknown>;
}

function only(o: Record<string, unknown>, path: string, keys: readonly string[]): void {
  for (const k of Object.keys(o))
    if (!keys.includes(k)) throw new ConfigError(`${path}.${k}`, 'is not a mirror setting', `use ${keys.join(', ')}`);
}

function listOf(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ConfigError(path, 'must be a list', FIX);
  return v;
}

function mac(v: unknown, path: string): number | undefined {
  if (v === undefined) return undefined;
  const m = typeof v === 'string' ? parseMac(v) : null;
  if (m === null) throw new ConfigError(path, `"${String(v)}" is not a MAC address`, 'write it as 02:00:00:00:00:01');
  return m;
}

function mirror(raw: unknown, path: string): MirrorSpec {
  const o = mapping(raw, path);
  only(o, path, MIRROR_KEYS);
  const out = mapping(o.output, `${path}.output`);
  let output: MirrorSpec['output'];
  if (out.port !== undefined) {
    only(out, `${path}.output`, ['port']);
    output = { port: String(out.port) };
  } else {
    only(out, `${path}.output`, ['vni', 'vtep', 'encap']);
    const encap = out.encap ?? 'vxlan';
    if (!isEncap(encap))
      throw new ConfigError(`${path}.output.encap`, `"${String(encap)}" is no encap`, 'vxlan or gre-udp');
    const v = mapping(out.vtep, `${path}.output.vtep`);
    const address = typeof v.address === 'string' ? canonicalIpAddress(v.address) : null;
    if (address === null)
      throw new ConfigError(`${path}.output.vtep.address`, 'is not an IP address', 'the VTEP of the analyser host');
    output = { vni: Number(out.vni), encap, vtep: { address, port: Number(v.port ?? DEFAULT_ENCAP_PORTS[encap]) } };
  }
  const direction = o.direction ?? 'both';
  if (typeof direction !== 'string' || !(MIRROR_DIRECTIONS as readonly string[]).includes(direction))
    throw new ConfigError(`${path}.direction`, `"${String(direction)}" is no direction`, MIRROR_DIRECTIONS.join(', '));
  const spec: MirrorSpec = {
    name: String(o.name),
    sourcePorts: listOf(o.sources, `${path}.sources`).map(String),
    sourceVnis: listOf(o.vnis, `${path}.vnis`).map(Number),
    direction: direction as MirrorSpec['direction'],
    sampleEvery: o.sampleEvery === undefined ? 1 : Number(o.sampleEvery),
    output,
  };
  const src = mac(o.srcMac, `${path}.srcMac`);
  const dst = mac(o.dstMac, `${path}.dstMac`);
  if (src !== undefined) spec.srcMac = src;
  if (dst !== undefined) spec.dstMac = dst;
  if (o.vlan !== undefined) spec.vlan = Number(o.vlan);
  return spec;
}

/** `mirrors` and `mirrorSinks` of the config file; throws ConfigError naming the field. */
export function mirrorsConfig(rawMirrors: unknown, rawSinks: unknown, networkVnis: ReadonlySet<number>): MirrorConfig {
  const config: MirrorConfig = {
    mirrors: listOf(rawMirrors, 'mirrors').map((m, i) => mirror(m, `mirrors[${i}]`)),
    sinks: listOf(rawSinks, 'mirrorSinks').map((s, i) => {
      const o = mapping(s, `mirrorSinks[${i}]`);
      only(o, `mirrorSinks[${i}]`, ['vni', 'port']);
      return { vni: Number(o.vni), port: String(o.port) };
    }),
  };
  try {
    checkMirrorConfig(config, networkVnis);
  } catch (err) {
    const message = (err as Error).message;
    const colon = message.indexOf(': ');
    const field = message.slice(0, colon).replace(/^sinks/, 'mirrorSinks');
    throw new ConfigError(field, message.slice(colon + 2), FIX);
  }
  return config;
}
