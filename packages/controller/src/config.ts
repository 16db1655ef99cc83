/**
 * dvs-controller command line → ControllerOptions. Every mistake is one
 * ControllerError naming the flag and the fix; nothing starts on bad input.
 * Environment fallbacks: DVS_ETCD_ENDPOINTS, DVS_ETCD_PASSWORD. The API's
 * TLS and authentication rules are checked when the controller starts
 * (api/trust/api-trust.ts), where the files are read.
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { ControllerError, type ControllerOptions } from './controller.js';
import { DEFAULT_CONTROLLER_PORT } from '@dvs/wire';
import { DEFAULT_AUDIT_CAPACITY } from './api/audit-log.js';
import { LOG_LEVELS, type LogLevel } from './log.js';
import { DEFAULT_STALE_POLICY } from './view/stale-hosts.js';

export const USAGE = `usage: dvs-controller [options]

  --etcd URLS            etcd endpoints, comma-separated (default http://127.0.0.1:2379, env DVS_ETCD_ENDPOINTS)
  --etcd-ca FILE         CA certificate (PEM) to verify etcd over TLS
  --etcd-cert FILE       client certificate (PEM)
  --etcd-key FILE        client key (PEM)
  --etcd-user NAME       etcd username (password from --etcd-password or env DVS_ETCD_PASSWORD)
  --etcd-password PASS
  --prefix PREFIX        key prefix (default /dvs/v1/)
  --listen ADDR          HTTP API: host:port or a unix socket path (default 127.0.0.1:7400)
  --tls-cert FILE        API server certificate (PEM): serve HTTPS
  --tls-key FILE         its private key (PEM)
  --tls-client-ca FILE   accept client certificates signed by this CA (PEM); needs --api-cert-roles
  --api-cert-roles FILE  certificate identity → role, one "<CN=name | DNS:name | …> <role>" per line
  --api-tokens FILE      bearer tokens, one "<name> <role> <token or sha256:hex>" per line
  --api-hostname NAME    a DNS name the API answers to besides its certificate's (repeatable)
  --insecure-local       plain HTTP, and every caller admin unless tokens are set; refused unless
                         --listen is on loopback (127.0.0.0/8, ::1) or a unix socket
  --audit-history N      API audit records kept in etcd (default 1000)
  --id NAME              replica id shown as leader (default <hostname>-<pid>)
  --election-ttl SECS    leader lease TTL: how long a dead leader holds the role (default 10)
  --dampen-moves N       moves allowed per window before a MAC is duplicate (default 5)
  --dampen-window SECS   dampening window (default 180)
  --stale-grace SECS     a host whose etcd lease expired keeps its entries, stale, at most this long
                         (default 600; 0: eject it at once, the entries go with its lease)
  --stale-probes on|off  drop a stale host's entries as soon as other hosts' tunnel probes see it
                         down (default on)
  --stale-return SECS    after a stale host registers again, how long an entry it has not
                         published again stays (default 15)
  --log-level LEVEL      debug, info, warn, error (default info)
  --migrate-keyspace     convert a layout-1 keyspace under --prefix to layout 2 (MAC reports keyed
                         reports/<host>/<vni>/<mac>) once, print what was done and exit; every
                         controller must be stopped first (docs/operations.md#upgrading-the-keyspace)
  -h, --help             this text
  -V, --version          print the version

Exit status: 0 stopped cleanly (or keyspace converted), 1 runtime failure, 2 bad configuration or a
keyspace to convert first (the message names the command), 70 an uncaught error.
`;

export interface ParsedConfig {
  options: ControllerOptions;
  logLevel: LogLevel;
  /** Convert the keyspace and exit instead of serving. */
  migrateKeyspace: boolean;
}

function positiveInt(value: string | undefined, flag: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min) {
    throw new ControllerError('DVS_CONFIG_INVALID', `--${flag} must be an integer ≥ ${min} (got "${value}")`, flag);
  }
  return n;
}

/** Returns null when --help was asked. */
export function parseControllerArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ParsedConfig | null {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        etcd: { type: 'string' },
        'etcd-ca': { type: 'string' },
        'etcd-cert': { type: 'string' },
        'etcd-key': { type: 'string' },
        'etcd-user': { type: 'string' },
        'etcd-password': { type: 'string' },
        prefix: { type: 'string' },
        listen: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-client-ca': { type: 'string' },
        'api-cert-roles': { type: 'string' },
        'api-tokens': { type: 'string' },
        'api-hostname': { type: 'string', multiple: true },
        'insecure-local': { type: 'boolean' },
        'audit-history': { type: 'string' },
        id: { type: 'string' },
        'election-ttl': { type: 'string' },
        'dampen-moves': { type: 'string' },
        'dampen-window': { type: 'string' },
        'stale-grace': { type: 'string' },
        'stale-probes': { type: 'string' },
        'stale-return': { type: 'string' },
        'log-level': { type: 'string' },
        'migrate-keyspace': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new ControllerError('DVS_CONFIG_INVALID', `${(err as Error).message} (see --help)`);
  }
  if (values.help === true) return null;
  const str = (k: string): string | undefined => values[k] as string | undefined;

  const endpoints = (str('etcd') ?? env.DVS_ETCD_ENDPOINTS ?? 'http://127.0.0.1:2379')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const e of endpoints) {
    if (!/^https?:\/\/[^/\s]+$/.test(e)) {
      throw new ControllerError(
        'DVS_CONFIG_INVALID',
        `--etcd: "${e}" is not http://host:port or https://host:port`,
        'etcd',
      );
    }
  }
  if (endpoints.length === 0)
    throw new ControllerError('DVS_CONFIG_INVALID', '--etcd needs at least one endpoint', 'etcd');
  if ((str('etcd-cert') === undefined) !== (str('etcd-key') === undefined)) {
    throw new ControllerError('DVS_CONFIG_INVALID', '--etcd-cert and --etcd-key go together', 'etcd-cert');
  }
  if ((str('etcd-cert') !== undefined || str('etcd-key') !== undefined) && str('etcd-ca') === undefined) {
    throw new ControllerError('DVS_CONFIG_INVALID', 'a client certificate needs --etcd-ca too', 'etcd-ca');
  }
  const prefix = str('prefix') ?? '/dvs/v1/';
  if (!prefix.startsWith('/') || !prefix.endsWith('/')) {
    throw new ControllerError('DVS_CONFIG_INVALID', `--prefix must start and end with "/" (got "${prefix}")`, 'prefix');
  }
  const logLevel = (str('log-level') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ControllerError('DVS_CONFIG_INVALID', `--log-level must be one of ${LOG_LEVELS.join(', ')}`, 'log-level');
  }
  const id = str('id') ?? `${hostname()}-${process.pid}`;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(id)) {
    throw new ControllerError('DVS_CONFIG_INVALID', `--id must be letters, digits, ".", "_", "-" (got "${id}")`, 'id');
  }
  const probes = str('stale-probes') ?? 'on';
  if (probes !== 'on' && probes !== 'off') {
    throw new ControllerError(
      'DVS_CONFIG_INVALID',
      `--stale-probes must be on or off (got "${probes}")`,
      'stale-probes',
    );
  }
  const username = str('etcd-user');
  const password = str('etcd-password') ?? env.DVS_ETCD_PASSWORD;
  return {
    logLevel,
    migrateKeyspace: values['migrate-keyspace'] === true,
    options: {
      id,
      prefix,
      listen: str('listen') ?? `127.0.0.1:${DEFAULT_CONTROLLER_PORT}`,
      api: {
        ...(str('tls-cert') !== undefined ? { tlsCertFile: str('tls-cert') } : {}),
        ...(str('tls-key') !== undefined ? { tlsKeyFile: str('tls-key') } : {}),
        ...(str('tls-client-ca') !== undefined ? { clientCaFile: str('tls-client-ca') } : {}),
        ...(str('api-cert-roles') !== undefined ? { certRolesFile: str('api-cert-roles') } : {}),
        ...(str('api-tokens') !== undefined ? { tokensFile: str('api-tokens') } : {}),
        ...(values['api-hostname'] !== undefined ? { hostnames: values['api-hostname'] as string[] } : {}),
        insecureLocal: values['insecure-local'] === true,
      },
      auditCapacity: positiveInt(str('audit-history'), 'audit-history', DEFAULT_AUDIT_CAPACITY),
      electionTtlSeconds: positiveInt(str('election-ttl'), 'election-ttl', 10, 2),
      dampening: {
        maxMoves: positiveInt(str('dampen-moves'), 'dampen-moves', 5),
        windowMs: positiveInt(str('dampen-window'), 'dampen-window', 180) * 1000,
      },
      stalePolicy: {
        graceMs: positiveInt(str('stale-grace'), 'stale-grace', DEFAULT_STALE_POLICY.graceMs / 1000, 0) * 1000,
        probes: probes === 'on',
        returnWindowMs:
          positiveInt(str('stale-return'), 'stale-return', DEFAULT_STALE_POLICY.returnWindowMs / 1000) * 1000,
      },
      etcd: {
        endpoints,
        ...(str('etcd-ca') !== undefined ? { caFile: str('etcd-ca') } : {}),
        ...(str('etcd-cert') !== undefined ? { certFile: str('etcd-cert') } : {}),
        ...(str('etcd-key') !== undefined ? { keyFile: str('etcd-key') } : {}),
        ...(username !== undefined ? { username, password: password ?? '' } : {}),
      },
    },
  };
}
