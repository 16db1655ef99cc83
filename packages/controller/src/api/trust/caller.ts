/**
 * Who is calling: a bearer token (Authorization header) first, else a
 * verified client certificate, else nobody. The result carries the refusal
 * to give when the route needs credentials; the caller is named in the audit
 * log either way.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AuditIdentity } from '@dvs/wire';
import { ApiError } from '../api-error.js';
import type { Grant } from './access-policy.js';
import type { ApiTrust } from './api-trust.js';

export interface Caller {
  identity: AuditIdentity;
  grant: Grant | null;
  /** Why this caller may not use a route that needs a role (401 or 403). */
  refusal: ApiError | null;
}

export function identifyCaller(req: IncomingMessage, trust: ApiTrust): Caller {
  const address = req.socket.remoteAddress ?? 'unix';
  const refuse = (error: ApiError, name = 'anonymous', method: AuditIdentity['method'] = 'none'): Caller => ({
    identity: { name, role: null, method, address },
    grant: null,
    refusal: error,
  });
  const grant = (g: Grant, method: AuditIdentity['method']): Caller => ({
    identity: { name: g.name, role: g.role, method, address },
    grant: g,
    refusal: null,
  });

  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const bearer = /^Bearer +(\S+) *$/i.exec(authorization);
    if (bearer === null) {
      return refuse(
        new ApiError('DVS_UNAUTHENTICATED', 'Authorization must be "Bearer <token>"'),
        'anonymous',
        'token',
      );
    }
    if (!trust.policy.hasTokens) {
      return refuse(
        new ApiError('DVS_UNAUTHENTICATED', 'this controller takes no bearer tokens (it has no --api-tokens file)'),
        'anonymous',
        'token',
      );
    }
    const found = trust.policy.token(bearer[1]!);
    if (found === null) {
      return refuse(
        new ApiError('DVS_UNAUTHENTICATED', 'the bearer token is not accepted (unknown or revoked)'),
        'anonymous',
        'token',
      );
    }
    return grant(found, 'token');
  }

  const socket = req.socket as Partial<TLSSocket>;
  if (socket.encrypted === true && trust.tls?.ca !== undefined && socket.getPeerCertificate !== undefined) {
    const cert = socket.getPeerCertificate();
    if (cert !== null && Object.keys(cert).length > 0) {
      if (socket.authorized !== true) {
        const why = String(socket.authorizationError ?? 'not signed by the client CA');
        return refuse(
          new ApiError('DVS_UNAUTHENTICATED', `the client certificate is not accepted: ${why}`),
          'anonymous',
          'certificate',
        );
      }
      const { grant: found, subject } = trust.policy.certificate(cert);
      if (found === null) {
        return refuse(
          new ApiError(
            'DVS_FORBIDDEN',
            `certificate ${subject} has no role: add it to the controller's --api-cert-roles file`,
          ),
          subject,
          'certificate',
        );
      }
      return grant(found, 'certificate');
    }
  }

  if (trust.anonymousAdmin) return grant({ name: 'local', role: 'admin' }, 'insecure-local');
  return refuse(
    new ApiError(
      'DVS_UNAUTHENTICATED',
      'no credentials: send a bearer token (dvs --token or DVS_TOKEN) or a client certificate (dvs --cert and --key)',
    ),
  );
}
