/**
 * A small QMP client (QEMU Machine Protocol: JSON lines over a unix socket).
 *
 *  1. connect: QEMU sends a greeting `{"QMP": {"version": …}}`;
 *  2. we send `qmp_capabilities` to leave negotiation mode;
 *  3. `execute(command, args)` sends `{"execute", "arguments", "id"}` and
 *     resolves with the `return` of the reply carrying that id, or rejects
 *     with the `error` (class and description);
 *  4. asynchronous events (`{"event", "data", "timestamp"}`) are kept in
 *     `events` (so a wait can start after the event came) and emitted as
 *     `qmp:event`.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { LabError } from '../errors.js';
import { deadlineSignal } from './deadline.js';
import { connectUnixSocket } from './unix-connect.js';

export interface QmpEvent {
  event: string;
  data: Record<string, unknown>;
  /** QEMU's timestamp of the event (ms since the epoch, µs precision). */
  atMs: number;
}

export interface QmpClientEvents {
  'qmp:event': [QmpEvent];
  'qmp:close': [];
}

export interface QmpWaitOptions {
  signal?: AbortSignal;
  /** Default 30 s. */
  timeoutMs?: number;
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface QmpMessage {
  QMP?: { version?: { qemu?: { major: number; minor: number; micro: number } } };
  return?: unknown;
  error?: { class: string; desc: string };
  id?: number;
  event?: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

export class QmpClient extends EventEmitter<QmpClientEvents> {
  /** Every event received since connect, oldest first. */
  readonly events: QmpEvent[] = [];
  /** QEMU's version from the greeting ("7.2.22"). */
  qemuVersion = '';
  private readonly socket: Socket;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffered = '';
  private closed = false;
  private greeted: ((ok: boolean) => void) | null = null;

  private constructor(
    socket: Socket,
    readonly path: string,
  ) {
    super();
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.onClose());
  }

  /**
   * Connects to QEMU's QMP socket, retrying while the socket is not there yet
   * (QEMU creates it during start-up), and negotiates capabilities.
   */
  static async connect(path: string, options: QmpWaitOptions = {}): Promise<QmpClient> {
    const signal = deadlineSignal(options.signal, options.timeoutMs ?? 10_000);
    const client = new QmpClient(await connectUnixSocket(path, signal, 'QMP socket'), path);
    await client.handshake(signal);
    return client;
  }

  private async handshake(signal: AbortSignal): Promise<void> {
    const greeted = new Promise<boolean>((resolve) => (this.greeted = resolve));
    const onAbort = () => this.greeted?.(false);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const ok = await greeted;
    signal.removeEventListener('abort', onAbort);
    if (!ok) {
      this.close();
      throw new LabError('DVS_LAB_TIMEOUT', `QMP ${this.path}: no greeting from QEMU`);
    }
    await this.execute('qmp_capabilities', undefined, { signal });
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl).trim();
      this.buffered = this.buffered.slice(nl + 1);
      if (line === '') continue;
      let msg: QmpMessage;
      try {
        msg = JSON.parse(line) as QmpMessage;
      } catch {
        continue; // QEMU only writes JSON here; a torn line is not ours to act on.
      }
      this.onMessage(msg);
    }
  }

  private onMessage(msg: QmpMessage): void {
    if (msg.QMP !== undefined) {
      const v = msg.QMP.version?.qemu;
      if (v) this.qemuVersion = `${v.major}.${v.minor}.${v.micro}`;
      this.greeted?.(true);
      this.greeted = null;
      return;
    }
    if (msg.event !== undefined) {
      const ts = msg.timestamp;
      const event: QmpEvent = {
        event: msg.event,
        data: msg.data ?? {},
        atMs: ts ? ts.seconds * 1000 + ts.microseconds / 1000 : Date.now(),
      };
      this.events.push(event);
      this.emit('qmp:event', event);
      return;
    }
    if (typeof msg.id !== 'number') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error !== undefined) {
      p.reject(new LabError('DVS_LAB_COMMAND_FAILED', `QMP ${p.command}: ${msg.error.desc} (${msg.error.class})`));
    } else {
      p.resolve(msg.return);
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.greeted?.(false);
    for (const p of this.pending.values())
      p.reject(new LabError('DVS_LAB_COMMAND_FAILED', `QMP ${p.command}: connection to QEMU closed`));
    this.pending.clear();
    this.emit('qmp:close');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs a QMP command; resolves with its `return` value. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, options: QmpWaitOptions = {}): Promise<T> {
    if (this.closed)
      return Promise.reject(new LabError('DVS_LAB_COMMAND_FAILED', `QMP ${command}: connection to QEMU closed`));
    const id = this.nextId++;
    const signal = deadlineSignal(options.signal, options.timeoutMs ?? 30_000);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        this.pending.delete(id);
        reject(new LabError('DVS_LAB_TIMEOUT', `QMP ${command}: no reply`, { cause: signal.reason }));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        command,
        resolve: (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v as T);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
      const msg = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
      this.socket.write(JSON.stringify(msg) + '\n');
    });
  }

  /**
   * Resolves with the first event named `name` at index `fromIndex` of
   * `events` or later (default: any event received so far counts too).
   */
  async waitForEvent(name: string, options: QmpWaitOptions & { fromIndex?: number } = {}): Promise<QmpEvent> {
    const seen = this.events.slice(options.fromIndex ?? 0).find((e) => e.event === name);
    if (seen) return seen;
    const signal = deadlineSignal(options.signal, options.timeoutMs ?? 30_000);
    return new Promise<QmpEvent>((resolve, reject) => {
      const cleanup = () => {
        this.off('qmp:event', onEvent);
        this.off('qmp:close', onClose);
        signal.removeEventListener('abort', onAbort);
      };
      const onEvent = (e: QmpEvent) => {
        if (e.event !== name) return;
        cleanup();
        resolve(e);
      };
      const onClose = () => {
        cleanup();
        reject(new LabError('DVS_LAB_COMMAND_FAILED', `QMP: connection closed while waiting for ${name}`));
      };
      const onAbort = () => {
        cleanup();
        reject(new LabError('DVS_LAB_TIMEOUT', `QMP: no ${name} event`, { cause: signal.reason }));
      };
      this.on('qmp:event', onEvent);
      this.on('qmp:close', onClose);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Closes the connection (QEMU keeps running). */
  close(): void {
    this.socket.destroy();
    this.onClose();
  }
}
