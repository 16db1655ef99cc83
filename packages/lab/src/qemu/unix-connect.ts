import { createConnection, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from '../errors.js';

/**
 * Connects to a unix socket that a process is still creating (QEMU's QMP and
 * console sockets appear during its start-up): retries every 50 ms until it
 * accepts or `signal` aborts (LabError DVS_LAB_TIMEOUT naming `what`).
 */
export async function connectUnixSocket(path: string, signal: AbortSignal, what: string): Promise<Socket> {
  for (;;) {
    const socket = await new Promise<Socket | null>((resolve) => {
      const s = createConnection(path);
      s.once('connect', () => resolve(s));
      s.once('error', () => resolve(null));
    });
    if (socket !== null) return socket;
    if (signal.aborted) throw new LabError('DVS_LAB_TIMEOUT', `${what} ${path} did not accept a connection`);
    await sleep(50);
  }
}
