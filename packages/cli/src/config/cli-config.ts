/**
 * The CLI's config file, in the way of kubectl's: named contexts, each
 * saying where a controller is and how to reach it, and which context is
 * current. YAML, at $DVS_CONFIG, else $XDG_CONFIG_HOME/dvs/config.yaml,
 * else ~/.config/dvs/config.yaml; written mode 0600.
 *
 *   current-context: prod
 *   contexts:
 *     - name: prod
 *       controller: https://ctl.example.net:7400
 *       cacert: /etc/dvs/pki/api-ca.pem
 *       token-file: prod.token      # relative paths: beside this file
 *     - name: lab
 *       controller: https://198.51.100.1:7400
 *       cert: lab/operator.pem
 *       key: lab/operator-key.pem
 *
 * A missing file is an empty config; a file that does not parse, or has a
 * key this version does not know, is a UsageError naming the file and key.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { UsageError } from '../cli-errors.js';

export const CONTEXT_KEYS = ['controller', 'cacert', 'cert', 'key', 'token', 'token-file', 'socket'] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];

export type ContextSettings = Partial<Record<ContextKey, string>>;

export interface NamedContext extends ContextSettings {
  name: string;
}

export interface CliConfig {
  'current-context'?: string;
  contexts: NamedContext[];
}

const CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** Keys whose values are files: resolved against the config file's folder. */
const FILE_KEYS: readonly ContextKey[] = ['cacert', 'cert', 'key', 'token-file', 'socket'];

export function configPath(env: Readonly<Record<string, string | undefined>>): string {
  if (env.DVS_CONFIG) return env.DVS_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'dvs', 'config.yaml');
}

export function isContextName(name: string): boolean {
  return CONTEXT_NAME.test(name);
}

export function loadCliConfig(path: string): CliConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { contexts: [] };
    throw new UsageError(`config ${path}: cannot read it: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parse(text) ?? {};
  } catch (err) {
    throw new UsageError(`config ${path}: not YAML: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new UsageError(`config ${path}: expected a mapping with current-context and contexts`);
  }
  const top = doc as Record<string, unknown>;
  for (const key of Object.keys(top)) {
    if (key !== 'current-context' && key !== 'contexts') {
      throw new UsageError(`config ${path}: unknown key "${key}" (known: current-context, contexts)`);
    }
  }
  const rawContexts = top.contexts ?? [];
  if (!Array.isArray(rawContexts)) throw new UsageError(`config ${path}: contexts must be a list`);
  const contexts = rawContexts.map((c: unknown, i) => readContext(c, `config ${path}: contexts.${i}`));
  const current = top['current-context'];
  if (current !== undefined && typeof current !== 'string') {
    throw new UsageError(`config ${path}: current-context must be a context name`);
  }
  return { ...(current !== undefined ? { 'current-context': current } : {}), contexts };
}

function readContext(value: unknown, where: string): NamedContext {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${where}: expected a mapping with name and ${CONTEXT_KEYS.join(', ')}`);
  }
  const out: NamedContext = { name: '' };
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new UsageError(`${where}.${key}: must be a string`);
    if (key === 'name') out.name = v;
    else if ((CONTEXT_KEYS as readonly string[]).includes(key)) out[key as ContextKey] = v;
    else throw new UsageError(`${where}: unknown key "${key}" (known: name, ${CONTEXT_KEYS.join(', ')})`);
  }
  if (!isContextName(out.name)) throw new UsageError(`${where}.name: "${out.name}" is not a context name`);
  return out;
}

export function saveCliConfig(path: string, config: CliConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, stringify(config), { mode: 0o600 });
  chmodSync(path, 0o600);
}

/**
 * The context to use: `name` (from --context or DVS_CONTEXT) or the current
 * one; null when neither is set. A name that is not in the file is an error.
 */
export function selectContext(config: CliConfig, name: string | undefined, path: string): NamedContext | null {
  const wanted = name ?? config['current-context'];
  if (wanted === undefined) return null;
  const found = config.contexts.find((c) => c.name === wanted);
  if (found === undefined) {
    const known = config.contexts.map((c) => c.name).join(', ') || 'none';
    throw new UsageError(`context "${wanted}" is not in ${path} (contexts: ${known}); see dvs config get-contexts`);
  }
  return found;
}

/** A context's file path, absolute: relative ones are taken from the config file's folder. */
export function contextFile(path: string, configFile: string): string {
  return isAbsolute(path) ? path : resolve(dirname(configFile), path);
}

export function isFileKey(key: ContextKey): boolean {
  return FILE_KEYS.includes(key);
}
