/**
 * etcd connection options of the agent (endpoints, TLS, username/password)
 * and the client built from them. Unary calls get a deadline so a dead etcd
 * fails fast; etcd3's per-host circuit breaker is replaced by a pass-through
 * so the first call after etcd returns goes through at once.
 */
import { readFileSync } from 'node:fs';
import { Etcd3, type IOptions } from 'etcd3';

export interface EtcdConnectionOptions {
  /** `http://host:port` or `https://host:port`. */
  endpoints: string[];
  /** PEM files for TLS. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
  /** Deadline of unary calls, default 3000 ms. */
  callTimeoutMs?: number;
}

type HostPolicy = ReturnType<NonNullable<NonNullable<IOptions['faultHandling']>['host']>>;
type WatchBackoff = NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']>;

/** Watch re-attach backoff: 200 ms doubling to 2 s (etcd3's default grows to 30 s, too slow after an outage). */
function watchBackoff(ms = 200, maxMs = 2000): WatchBackoff {
  return { duration: ms, next: () => watchBackoff(Math.min(ms * 2, maxMs), maxMs) } as unknown as WatchBackoff;
}

const passThrough = {
  execute: <T>(fn: (context: { signal: AbortSignal; attempt: number }) => PromiseLike<T> | T): Promise<T> =>
    Promise.resolve().then(() => fn({ signal: new AbortController().signal, attempt: 0 })),
} as unknown as HostPolicy;

export function createEtcdClient(options: EtcdConnectionOptions): Etcd3 {
  const callTimeoutMs = options.callTimeoutMs ?? 3000;
  const etcdOptions: IOptions = {
    hosts: options.endpoints,
    dialTimeout: callTimeoutMs,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
    faultHandling: { host: () => passThrough, watchBackoff: watchBackoff() },
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
  if (options.username !== undefined)
    etcdOptions.auth = { username: options.username, password: options.password ?? '' };
  return new Etcd3(etcdOptions);
}
