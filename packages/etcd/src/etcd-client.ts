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
 *  - gRPC message limits are explicit (etcd3 leaves gRPC's 4 MiB receive
 *    default, microsoft/etcd3#36): whole-range reads are paginated
 *    (range-read.ts), so the receive limit only has to hold one page or one
 *    watch response (all events of one revision: a leader's transaction);
 *    the send limit sits above etcd's own request limit (--max-request-bytes,
 *    1.5 MiB by default), so an oversized request gets etcd's clear refusal,
 *    and dvs's writers keep their transactions well under both.
 *  - A watch response for a watch etcd3 no longer holds is dropped instead
 *    of thrown as an unhandled rejection (watch-response-guard.ts).
 */
import { readFileSync } from 'node:fs';
import { noop, type IBackoff } from 'cockatiel';
import { Etcd3, type IOptions } from 'etcd3';
import { installWatchResponseGuard } from './watch-response-guard.js';

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

/** Largest message the client accepts: one range page or one watch response. */
export const MAX_RECEIVE_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Largest message the client sends (etcd refuses requests above 1.5 MiB unless configured otherwise). */
export const MAX_SEND_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Watch re-attach delays: `ms`, then doubling up to `maxMs`. */
function watchBackoff(ms = 200, maxMs = 2000): IBackoff<unknown> {
  return { duration: ms, next: () => watchBackoff(Math.min(ms * 2, maxMs), maxMs) };
}

export function createEtcdClient(options: EtcdConnectionOptions): Etcd3 {
  installWatchResponseGuard();
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
      'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_SEND_MESSAGE_BYTES,
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
