/**
 * Port security as written in the agent's config (`ports[].security`) and as
 * `ports/add` words (`allow=MAC[,IP…]`, `lock-mac`, `max-macs=N`,
 * `storm-broadcast=PPS`, `storm-multicast=PPS`, `storm-unknown-unicast=PPS`).
 * Both become the data path's PortSecurity, whose own check
 * (datapath/port-security.ts) is the one rule for what is valid.
 */
import { checkPortSecurity, type PortSecurity } from '../datapath/port-security.js';
import type { StormLimits } from '../datapath/storm-control.js';
import { ConfigError } from './config-error.js';

const KEYS = ['allowed', 'lockFirstMac', 'maxMacs', 'storm'] as const;
const STORM_KEYS = ['broadcastPps', 'multicastPps', 'unknownUnicastPps'] as const;

/** `ports[i].security` of the config file; throws ConfigError naming the field. */
export function portSecurityConfig(raw: unknown, path: string, portName: string): PortSecurity {
  const fix = 'see deploy/examples/agent.yaml: allowed: [{ mac, ips }], lockFirstMac, maxMacs, storm';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError(path, 'must be a mapping', fix);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!(KEYS as readonly string[]).includes(k))
      throw new ConfigError(`${path}.${k}`, 'is not a port security setting', `use one of ${KEYS.join(', ')}`);
  if (o.storm !== undefined) {
    if (typeof o.storm !== 'object' || o.storm === null || Array.isArray(o.storm))
      throw new ConfigError(`${path}.storm`, 'must be a mapping', `use ${STORM_KEYS.join(', ')} (frames per second)`);
    for (const k of Object.keys(o.storm))
      if (!(STORM_KEYS as readonly string[]).includes(k))
        throw new ConfigError(`${path}.storm.${k}`, 'is not a storm-control class', `use ${STORM_KEYS.join(', ')}`);
  }
  if (o.lockFirstMac !== undefined && typeof o.lockFirstMac !== 'boolean')
    throw new ConfigError(`${path}.lockFirstMac`, 'must be true or false', 'write lockFirstMac: true or leave it out');
  const spec = o as PortSecurity;
  const wrong = checkPortSecurity(spec, portName);
  if (wrong !== null) {
    const field = /security\.([A-Za-z.[\]0-9]+)/.exec(wrong)?.[1];
    throw new ConfigError(field === undefined ? path : `${path}.${field}`, wrong, fix);
  }
  return spec;
}

/** Whether an argument of `ports/add` is a port security word. */
export function isPortSecurityWord(word: string): boolean {
  return word === 'lock-mac' || /^(allow|max-macs|storm-broadcast|storm-multicast|storm-unknown-unicast)=/.test(word);
}

const STORM_WORDS: Record<string, keyof StormLimits> = {
  'storm-broadcast': 'broadcastPps',
  'storm-multicast': 'multicastPps',
  'storm-unknown-unicast': 'unknownUnicastPps',
};

/** The PortSecurity of `ports/add` words (validated), or what is wrong with them. */
export function parsePortSecurityWords(words: readonly string[], portName: string): PortSecurity | string {
  const spec: PortSecurity = {};
  const count = (key: string, text: string): number | string =>
    /^\d{1,9}$/.test(text) ? Number(text) : `${key}=${text}: give a whole number`;
  for (const word of words) {
    if (word === 'lock-mac') {
      spec.lockFirstMac = true;
      continue;
    }
    const eq = word.indexOf('=');
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    if (key === 'allow') {
      const [mac, ...ips] = value.split(',');
      (spec.allowed ??= []).push({ mac: mac ?? '', ...(ips.length > 0 ? { ips } : {}) });
    } else if (key === 'max-macs') {
      const n = count(key, value);
      if (typeof n === 'string') return n;
      spec.maxMacs = n;
    } else if (STORM_WORDS[key] !== undefined) {
      const n = count(key, value);
      if (typeof n === 'string') return n;
      (spec.storm ??= {})[STORM_WORDS[key]] = n;
    } else return `"${word}" is not a port security word (allow=, lock-mac, max-macs=, storm-…=)`;
  }
  return checkPortSecurity(spec, portName) ?? spec;
}

/** The words that give `spec` back (for messages and `ports/show`). */
export function formatPortSecurity(spec: PortSecurity | undefined): string {
  if (spec === undefined) return '';
  const words: string[] = [];
  for (const pair of spec.allowed ?? []) words.push(`allow=${[pair.mac, ...(pair.ips ?? [])].join(',')}`);
  if (spec.lockFirstMac === true) words.push('lock-mac');
  if (spec.maxMacs !== undefined && spec.maxMacs > 0) words.push(`max-macs=${spec.maxMacs}`);
  for (const [word, key] of Object.entries(STORM_WORDS)) {
    const pps = spec.storm?.[key];
    if (pps !== undefined && pps > 0) words.push(`${word}=${pps}`);
  }
  return words.join(' ');
}
