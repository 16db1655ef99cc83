/**
 * A private etcd server for tests, the lab and benchmarks: `/usr/bin/etcd`
 * (etcd 3.4, Debian's etcd-server) on 127.0.0.1 with random free ports and a
 * temporary data directory, auto-compaction off, and a backend quota
 * (`--quota-backend-bytes`, TEST_QUOTA_BACKEND_BYTES unless given): past it
 * etcd raises its NOSPACE alarm and refuses writes, as in production
 * (docs/operations.md). EtcdCluster (etcd-cluster.ts) starts several as the
 * members of one cluster.
 *
 *   const etcd = await EtcdServer.start({ signal });
 *   … new Etcd3({ hosts: etcd.endpoint }) …
 *   await etcd.halt(); await etcd.restart();  // outage on the same ports and data
 *   etcd.pause(); etcd.resume();              // SIGSTOP / SIGCONT: a hung server
 *   await etcd.stop();                        // SIGTERM, then SIGKILL; removes the data dir
 *
 * Only the process this class started is ever signalled, by its PID. A
 * process-exit hook SIGKILLs servers a crashed test left running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ETCD_BINARY = '/usr/bin/etcd';

export class EtcdServerError extends Error {
  override readonly name = 'EtcdServerError';
  constructor(
    readonly code: 'DVS_ETCD_START_FAILED' | 'DVS_ETCD_NOT_RUNNING',
    message: string,
  ) {
    super(message);
  }
}

export interface EtcdServerTls {
  /** Server certificate and key (PEM files); the certificate must cover IP 127.0.0.1. */
  certFile: string;
  keyFile: string;
  /** CA that signed client certificates; with it etcd requires one (--client-cert-auth). */
  trustedCaFile?: string;
  /** Client certificate for the health check when client certificates are required. */
  clientCertFile?: string;
  clientKeyFile?: string;
}

export interface EtcdServerOptions {
  signal?: AbortSignal;
  /** Serve clients over TLS (https:// endpoint). */
  tls?: EtcdServerTls;
  /** How long to wait for /health to answer (default 15 s). */
  startTimeoutMs?: number;
  /** Binary to run (default /usr/bin/etcd). */
  binary?: string;
  /** Extra etcd flags. */
  extraArgs?: string[];
  /** `--quota-backend-bytes` (default TEST_QUOTA_BACKEND_BYTES). */
  quotaBackendBytes?: number;
  /** As a member of a cluster (EtcdCluster): its name, ports and `--initial-cluster`; default a cluster of one. */
  member?: EtcdMemberSpec;
}

export interface EtcdMemberSpec {
  name: string;
  clientPort: number;
  peerPort: number;
  /** `name=http://127.0.0.1:peerPort,…` of every member. */
  initialCluster: string;
}

/** The backend quota of test servers: small enough that a runaway test hits NOSPACE, not the disk. */
export const TEST_QUOTA_BACKEND_BYTES = 512 * 1024 * 1024;

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running)
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class EtcdServer {
  /** Client URL, e.g. `http://127.0.0.1:34567`. */
  readonly endpoint: string;
  private child: ChildProcess | null = null;
  private readonly output: string[] = [];
  private stopped = false;

  private constructor(
    readonly clientPort: number,
    readonly peerPort: number,
    readonly dataDir: string,
    private readonly options: EtcdServerOptions,
  ) {
    this.endpoint = `${options.tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`;
  }

  /** Starts a fresh server; retries with new ports if the chosen ones were taken meanwhile. */
  static async start(options: EtcdServerOptions = {}): Promise<EtcdServer> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const dataDir = await mkdtemp(join(tmpdir(), 'dvs-etcd-'));
      const member = options.member;
      const server = new EtcdServer(
        member?.clientPort ?? (await freePort()),
        member?.peerPort ?? (await freePort()),
        dataDir,
        options,
      );
      try {
        await server.launch();
        return server;
      } catch (err) {
        lastError = err;
        await server.stop();
        if (options.signal?.aborted || options.member !== undefined) throw err;
      }
    }
    throw lastError;
  }

  /** PID of the running server, or null while halted. */
  get pid(): number | null {
    const child = this.child;
    return child !== null && child.exitCode === null && child.signalCode === null ? (child.pid ?? null) : null;
  }

  /** Last lines etcd printed (for failure messages). */
  recentOutput(): string {
    return this.output.join('\n');
  }

  private async launch(): Promise<void> {
    if (this.stopped) throw new EtcdServerError('DVS_ETCD_NOT_RUNNING', 'etcd server was stopped');
    const peer = `http://127.0.0.1:${this.peerPort}`;
    const name = this.options.member?.name ?? 'dvs-test';
    const args = [
      '--name',
      name,
      '--data-dir',
      this.dataDir,
      '--listen-client-urls',
      this.endpoint,
      '--advertise-client-urls',
      this.endpoint,
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      this.options.member?.initialCluster ?? `${name}=${peer}`,
      '--initial-cluster-state',
      'new',
      '--auto-compaction-retention',
      '0',
      '--quota-backend-bytes',
      String(this.options.quotaBackendBytes ?? TEST_QUOTA_BACKEND_BYTES),
      '--logger',
      'zap',
      '--log-level',
      'warn',
      ...this.tlsArgs(),
      ...(this.options.extraArgs ?? []),
    ];
    const child = spawn(this.options.binary ?? ETCD_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    running.add(child);
    const keep = (chunk: Buffer): void => {
      for (const line of chunk.toString().split('\n')) if (line !== '') this.output.push(line);
      if (this.output.length > 50) this.output.splice(0, this.output.length - 50);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('exit', () => running.delete(child));
    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
    spawnError.catch(() => undefined);
    await Promise.race([this.waitHealthy(child), spawnError]);
  }

  private tlsArgs(): string[] {
    const tls = this.options.tls;
    if (tls === undefined) return [];
    const args = ['--cert-file', tls.certFile, '--key-file', tls.keyFile];
    if (tls.trustedCaFile !== undefined) args.push('--trusted-ca-file', tls.trustedCaFile, '--client-cert-auth');
    return args;
  }

  /** GET /health over http or https (with the client certificate when configured). */
  async healthy(signal: AbortSignal = AbortSignal.timeout(2000)): Promise<boolean> {
    const tls = this.options.tls;
    const tlsOptions =
      tls === undefined
        ? {}
        : {
            ca: tls.trustedCaFile !== undefined ? await readFile(tls.trustedCaFile) : undefined,
            cert: tls.clientCertFile !== undefined ? await readFile(tls.clientCertFile) : undefined,
            key: tls.clientKeyFile !== undefined ? await readFile(tls.clientKeyFile) : undefined,
            rejectUnauthorized: tls.trustedCaFile !== undefined,
          };
    const get = tls === undefined ? httpGet : httpsGet;
    return new Promise((resolve) => {
      const req = get(`${this.endpoint}/health`, { ...tlsOptions, signal, timeout: 1000 }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(res.statusCode === 200 && body.includes('"health":"true"')));
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
    });
  }

  private async waitHealthy(child: ChildProcess): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? 15_000;
    const signals = [AbortSignal.timeout(timeoutMs), ...(this.options.signal ? [this.options.signal] : [])];
    const signal = AbortSignal.any(signals);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new EtcdServerError(
          'DVS_ETCD_START_FAILED',
          `etcd exited (${child.exitCode ?? child.signalCode}) while starting:\n${this.recentOutput()}`,
        );
      }
      // A member of a new cluster is healthy only once a quorum runs: EtcdCluster waits for that.
      if (this.options.member !== undefined || (await this.healthy(signal))) return;
      try {
        await delay(50, signal);
      } catch {
        throw new EtcdServerError(
          'DVS_ETCD_START_FAILED',
          `etcd at ${this.endpoint} not healthy within ${timeoutMs} ms:\n${this.recentOutput()}`,
        );
      }
    }
  }

  /** Stops the process (SIGTERM, SIGKILL after `graceMs`), keeping ports and data for `restart()`. */
  async halt(graceMs = 3000): Promise<void> {
    const child = this.child;
    if (child === null || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(child.pid, 'SIGCONT'); // a paused server cannot handle SIGTERM
    process.kill(child.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
    }, graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** SIGKILLs the process at once (a crash), keeping ports and data for `restart()`. */
  async kill(): Promise<void> {
    await this.halt(0);
  }

  /** Starts the server again on the same ports and data directory. */
  async restart(): Promise<void> {
    await this.halt();
    await this.launch();
  }

  /** SIGSTOP: the server keeps its sockets but answers nothing. */
  pause(): void {
    const pid = this.pid;
    if (pid === null) throw new EtcdServerError('DVS_ETCD_NOT_RUNNING', 'etcd server is not running');
    process.kill(pid, 'SIGSTOP');
    waitUntilStopped(pid);
  }

  /** SIGCONT after pause(). */
  resume(): void {
    const pid = this.pid;
    if (pid === null) throw new EtcdServerError('DVS_ETCD_NOT_RUNNING', 'etcd server is not running');
    process.kill(pid, 'SIGCONT');
  }

  /** Stops the server for good and removes its data directory. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.halt();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * SIGSTOP is queued, not done, when kill() returns: a thread running on
 * another CPU stops when it next enters the kernel. Wait (up to 2 s) until
 * every thread of pid shows state T, so that a request sent after pause()
 * really meets a stopped server.
 */
function waitUntilStopped(pid: number): void {
  const tick = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; waited < 2000; waited++) {
    if (allThreadsStopped(pid)) return;
    Atomics.wait(tick, 0, 0, 1);
  }
}

function allThreadsStopped(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).every((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return state === 'T' || state === 't';
    });
  } catch {
    return true; // gone: nothing left to answer
  }
}
