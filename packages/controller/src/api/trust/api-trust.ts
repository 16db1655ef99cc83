/**
 * How the API proves who is calling (docs/security.md), resolved once at
 * start from ApiTrustOptions: TLS, the access policy, and the Host names it
 * answers to. The rules:
 *
 * - Without `insecureLocal`, the API serves HTTPS and needs a way to
 *   authenticate: a tokens file, client certificates with a roles file, or both.
 * - `insecureLocal` allows plain HTTP, and when no tokens or certificates are
 *   configured every caller is `admin`; it is refused unless the API listens
 *   on loopback or a unix socket.
 * - A Host header names an IP address, `localhost`, a DNS name of the server
 *   certificate, or one of `hostnames`; anything else is answered 421 (DNS
 *   rebinding sends a foreign name to a local address).
 */
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { ipFamily } from '@dvs/wire';
import { ControllerError } from '../../controller-error.js';
import { AccessPolicy, parseCertRoles, parseTokens } from './access-policy.js';

export interface ApiTrustOptions {
  /** Server certificate and key (PEM files): the API serves HTTPS. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** CA (PEM file) whose client certificates are accepted; roles come from certRolesFile. */
  clientCaFile?: string;
  certRolesFile?: string;
  /** Bearer tokens with their names and roles. */
  tokensFile?: string;
  /** Plain HTTP allowed, and without tokens or certificates every caller is admin: loopback or unix socket only. */
  insecureLocal?: boolean;
  /** Host names accepted in the Host header besides IP literals, localhost and the certificate's DNS names. */
  hostnames?: string[];
}

export interface ApiTls {
  cert: Buffer;
  key: Buffer;
  /** Set when client certificates are accepted. */
  ca?: Buffer;
}

export interface ApiTrust {
  tls: ApiTls | null;
  policy: AccessPolicy;
  /** insecureLocal without tokens or certificates: callers need no credentials. */
  anonymousAdmin: boolean;
  /** True for a Host header the API answers to. */
  allowedHost(host: string | undefined): boolean;
  /** One line for the start log: `https, tokens, client certificates`. */
  summary: string;
}

const LOOPBACK_NAMES = new Set(['localhost', '::1', '[::1]']);

/** A listen address on loopback (127.0.0.0/8, ::1, localhost) or a unix socket path. */
export function isLocalListen(listen: string): boolean {
  if (listen.startsWith('/')) return true;
  const host = listen
    .slice(0, listen.lastIndexOf(':'))
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
  return LOOPBACK_NAMES.has(host) || (ipFamily(host) === 4 && host.startsWith('127.'));
}

/** The host part of a Host header (`name:port`, `[v6]:port`), lower case; null when malformed. */
export function hostOfHeader(header: string): string | null {
  const text = header.trim().toLowerCase();
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    return end > 0 ? text.slice(1, end) : null;
  }
  const colon = text.indexOf(':');
  const host = colon < 0 ? text : text.slice(0, colon);
  return host === '' ? null : host;
}

function sanDnsNames(certPem: Buffer): string[] {
  const san = new X509Certificate(certPem).subjectAltName ?? '';
  return san
    .split(/,\s*/)
    .filter((e) => e.startsWith('DNS:'))
    .map((e) => e.slice(4).toLowerCase());
}

function nameMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot) === pattern.slice(1);
}

async function readConfigFile(file: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new ControllerError('DVS_CONFIG_INVALID', `--${flag}: cannot read ${file}: ${(err as Error).message}`, flag);
  }
}

const bad = (message: string, flag: string): ControllerError =>
  new ControllerError('DVS_CONFIG_INVALID', message, flag);

export async function resolveApiTrust(options: ApiTrustOptions, listen: string): Promise<ApiTrust> {
  const o = options;
  if ((o.tlsCertFile === undefined) !== (o.tlsKeyFile === undefined)) {
    throw bad('--tls-cert and --tls-key go together', 'tls-cert');
  }
  if ((o.clientCaFile === undefined) !== (o.certRolesFile === undefined)) {
    throw bad(
      '--tls-client-ca and --api-cert-roles go together: the CA says a certificate is genuine, the roles file what it may do',
      'tls-client-ca',
    );
  }
  if (o.clientCaFile !== undefined && o.tlsCertFile === undefined) {
    throw bad('client certificates (--tls-client-ca) need TLS: give --tls-cert and --tls-key', 'tls-cert');
  }
  const local = isLocalListen(listen);
  if (o.insecureLocal === true && !local) {
    throw bad(
      `--insecure-local is refused: the API listens on ${listen}, not on loopback or a unix socket. ` +
        'Serve TLS with authentication (--tls-cert, --tls-key, --api-tokens and/or --tls-client-ca), or listen on 127.0.0.1',
      'insecure-local',
    );
  }
  if (o.insecureLocal !== true) {
    if (o.tlsCertFile === undefined) {
      throw bad(
        'the API needs TLS: give --tls-cert and --tls-key (deploy/api/make-api-certs.sh makes them), ' +
          'or --insecure-local to serve plain HTTP on loopback only',
        'tls-cert',
      );
    }
    if (o.tokensFile === undefined && o.clientCaFile === undefined) {
      throw bad(
        'the API needs a way to authenticate callers: --api-tokens FILE, --tls-client-ca FILE with --api-cert-roles FILE, or both',
        'api-tokens',
      );
    }
  }
  const tokens =
    o.tokensFile === undefined
      ? []
      : parseTokens((await readConfigFile(o.tokensFile, 'api-tokens')).toString('utf8'), o.tokensFile);
  const certRoles =
    o.certRolesFile === undefined
      ? new Map()
      : parseCertRoles((await readConfigFile(o.certRolesFile, 'api-cert-roles')).toString('utf8'), o.certRolesFile);
  if (o.tokensFile !== undefined && tokens.length === 0 && o.clientCaFile === undefined) {
    throw bad(`--api-tokens: ${o.tokensFile} has no tokens: nobody could call the API`, 'api-tokens');
  }
  let tls: ApiTls | null = null;
  const names = new Set(['localhost', ...(o.hostnames ?? []).map((h) => h.toLowerCase())]);
  if (o.tlsCertFile !== undefined && o.tlsKeyFile !== undefined) {
    tls = { cert: await readConfigFile(o.tlsCertFile, 'tls-cert'), key: await readConfigFile(o.tlsKeyFile, 'tls-key') };
    try {
      for (const n of sanDnsNames(tls.cert)) names.add(n);
    } catch (err) {
      throw bad(`--tls-cert: ${o.tlsCertFile} is not a PEM certificate: ${(err as Error).message}`, 'tls-cert');
    }
    if (o.clientCaFile !== undefined) tls.ca = await readConfigFile(o.clientCaFile, 'tls-client-ca');
  }
  const listenHost = listen.startsWith('/') ? null : hostOfHeader(listen);
  if (listenHost !== null && ipFamily(listenHost) === 0) names.add(listenHost);
  const anonymousAdmin = o.insecureLocal === true && tokens.length === 0 && o.clientCaFile === undefined;
  const summary = [
    tls ? 'https' : 'plain http (--insecure-local)',
    ...(tokens.length > 0 ? [`${tokens.length} token(s)`] : []),
    ...(o.clientCaFile !== undefined ? [`client certificates (${certRoles.size} role mapping(s))`] : []),
    ...(anonymousAdmin ? ['no authentication: every local caller is admin'] : []),
  ].join(', ');
  return {
    tls,
    policy: new AccessPolicy(tokens, certRoles),
    anonymousAdmin,
    summary,
    allowedHost(header) {
      if (listen.startsWith('/')) return true; // a unix socket: no browser reaches it by name
      if (header === undefined) return false;
      const host = hostOfHeader(header);
      if (host === null) return false;
      if (ipFamily(host) !== 0) return true;
      for (const n of names) if (nameMatches(n, host)) return true;
      return false;
    },
  };
}
