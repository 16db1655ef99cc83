/**
 * Builds the etcd3 client from operator options: endpoints, TLS (CA, cert,
 * key) and username/password. Agent and controller both connect through it.
 *
 *  - Unary calls get a deadline, so an unreachable etcd fails a call quickly
 *    and the caller decides to retry (streams, the watches, have none).
 *  - etcd3's per-host circuit breaker is replaced by cockatiel's no-op policy:
 *    the first call after etcd returns goes through at once instead of
 *    waiting out a breaker.
 *  - Watches re-attach after 200 ms, doubling to 2 s (etcd3's default grows to
 *    30 s, far too slow after an outage); gRPC reconnects on the same scale.
 */
import { readFileSync } from 'node:fs';
import { noop, type IBackoff } from 'cockatiel';
import { Etcd3, type IOptions } from 'etcd3';

export interface EtcdConnectionOptions {
  /** `http://host:port` or `https://host:port`, one or more. */
  endpoints: string[];
  /** PEM files. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
  /** Deadline of unary calls (default 3000 ms). */
  callTimeoutMs?: number;
}

/** Watch re-attach delays: `ms`, then doubling up to `maxMs`. */
function watchBackoff(ms = 200, maxMs = 2000): IBackoff<unknown> {
  return { duration: ms, next: () => watchBackoff(Math.min(ms * 2, maxMs), maxMs) };
}

export function createEtcdClient(options: EtcdConnectionOptions): Etcd3 {
  const callTimeoutMs = options.callTimeoutMs ?? 3000;
  const etcdOptions: IOptions = {
    hosts: options.endpoints,
    dialTimeout: callTimeoutMs,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
    faultHandling: { host: () => noop, watchBackoff: watchBackoff() },
    grpcOptions: {
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2000,
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5000,
    },
  };
  if (options.caFile !== undefined) {
    etcdOptions.credentials = {
      rootCertificate: readFileSync(options.caFile),
      ...(options.keyFile !== undefined ? { privateKey: readFileSync(options.keyFile) } : {}),
      ...(options.certFile !== undefined ? { certChain: readFileSync(options.certFile) } : {}),
    };
  }
  if (options.username !== undefined) {
    etcdOptions.auth = { username: options.username, password: options.password ?? '' };
  }
  return new Etcd3(etcdOptions);
}
