/**
 * Who may call the API, read from two small files (docs/security.md):
 *
 *   tokens file        one line per token:    <name> <role> <secret>
 *                      secret = the token itself (≥ 16 characters) or
 *                      `sha256:<64 hex>` of it, so the file need not hold secrets
 *   certificate roles  one line per identity: <selector> <role>
 *                      selector = `CN=<common name>` or a subjectAltName entry
 *                      as openssl prints it (`DNS:ctl.example.net`, `URI:spiffe://…`,
 *                      `email:ops@example.net`, `IP:192.0.2.5`)
 *
 * `#` starts a comment; blank lines are skipped. Any other mistake is a
 * ControllerError naming the file, the line and the fix: the controller does
 * not start on a policy it cannot read.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { API_ROLES, type ApiRole } from '@dvs/wire';
import { ControllerError } from '../../controller-error.js';

export const MIN_TOKEN_LENGTH = 16;

interface TokenEntry {
  name: string;
  role: ApiRole;
  digest: Buffer;
}

export interface Grant {
  name: string;
  role: ApiRole;
}

/** `a` includes every right of `b`. */
export function roleIncludes(a: ApiRole, b: ApiRole): boolean {
  return API_ROLES.indexOf(a) >= API_ROLES.indexOf(b);
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

function lines(text: string): { line: number; words: string[] }[] {
  return text
    .split('\n')
    .map((raw, i) => ({ line: i + 1, words: raw.replace(/#.*/, '').trim().split(/\s+/).filter(Boolean) }))
    .filter((l) => l.words.length > 0);
}

function roleOf(word: string | undefined, where: string, flag: string): ApiRole {
  if (API_ROLES.includes(word as ApiRole)) return word as ApiRole;
  throw new ControllerError(
    'DVS_CONFIG_INVALID',
    `${where}: role "${word ?? ''}" is not one of ${API_ROLES.join(', ')}`,
    flag,
  );
}

export function parseTokens(text: string, file: string, flag = 'api-tokens'): TokenEntry[] {
  const out: TokenEntry[] = [];
  const names = new Set<string>();
  for (const { line, words } of lines(text)) {
    const where = `${file}:${line}`;
    if (words.length !== 3) {
      throw new ControllerError('DVS_CONFIG_INVALID', `${where}: expected "<name> <role> <token or sha256:hex>"`, flag);
    }
    const [name, roleWord, secret] = words as [string, string, string];
    if (names.has(name)) throw new ControllerError('DVS_CONFIG_INVALID', `${where}: token name "${name}" twice`, flag);
    names.add(name);
    const role = roleOf(roleWord, where, flag);
    let digest: Buffer;
    if (secret.startsWith('sha256:')) {
      const hex = secret.slice('sha256:'.length);
      if (!/^[0-9a-f]{64}$/i.test(hex)) {
        throw new ControllerError('DVS_CONFIG_INVALID', `${where}: sha256: must be followed by 64 hex digits`, flag);
      }
      digest = Buffer.from(hex, 'hex');
    } else if (secret.length < MIN_TOKEN_LENGTH) {
      throw new ControllerError(
        'DVS_CONFIG_INVALID',
        `${where}: token of "${name}" is shorter than ${MIN_TOKEN_LENGTH} characters (make one: openssl rand -hex 32)`,
        flag,
      );
    } else {
      digest = sha256(secret);
    }
    out.push({ name, role, digest });
  }
  return out;
}

export function parseCertRoles(text: string, file: string, flag = 'api-cert-roles'): Map<string, ApiRole> {
  const out = new Map<string, ApiRole>();
  for (const { line, words } of lines(text)) {
    const where = `${file}:${line}`;
    const [selector, roleWord] = words as [string, string | undefined];
    if (words.length !== 2 || !/^(CN=|DNS:|URI:|email:|IP:)./.test(selector)) {
      throw new ControllerError(
        'DVS_CONFIG_INVALID',
        `${where}: expected "<CN=name | DNS:name | URI:uri | email:address | IP:address> <role>"`,
        flag,
      );
    }
    out.set(selector, roleOf(roleWord, where, flag));
  }
  return out;
}

/** The selectors a verified certificate answers to: its CN, then each subjectAltName entry. */
export function certificateSelectors(cert: PeerCertificate): string[] {
  const out: string[] = [];
  const cn = cert.subject?.CN;
  for (const name of Array.isArray(cn) ? cn : cn === undefined ? [] : [cn]) out.push(`CN=${name}`);
  for (const entry of (cert.subjectaltname ?? '').split(/,\s*/).filter(Boolean)) {
    out.push(entry.replace(/^IP Address:/, 'IP:'));
  }
  return out;
}

export class AccessPolicy {
  constructor(
    private readonly tokens: readonly TokenEntry[],
    private readonly certRoles: ReadonlyMap<string, ApiRole>,
  ) {}

  get hasTokens(): boolean {
    return this.tokens.length > 0;
  }

  /** The grant of a bearer token; every entry is compared, in constant time each. */
  token(presented: string): Grant | null {
    const digest = sha256(presented);
    let found: Grant | null = null;
    for (const entry of this.tokens) {
      if (timingSafeEqual(entry.digest, digest) && found === null) found = { name: entry.name, role: entry.role };
    }
    return found;
  }

  /** The grant of a verified client certificate: the first of its selectors that has a role. */
  certificate(cert: PeerCertificate): { grant: Grant | null; subject: string } {
    const selectors = certificateSelectors(cert);
    for (const selector of selectors) {
      const role = this.certRoles.get(selector);
      if (role !== undefined) return { grant: { name: selector, role }, subject: selector };
    }
    return { grant: null, subject: selectors[0] ?? 'a certificate without CN or subjectAltName' };
  }
}
