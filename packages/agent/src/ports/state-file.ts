/**
 * The agent's state file: the ports added at run time (by `ports/add`, the
 * QEMU hook, the lab) that the agent can get back after a restart or a crash,
 * as Open vSwitch keeps its ports in its database.
 *
 * Format (JSON, one object):
 *   { "format": "dvs-agent-state", "version": 1, "host": "host-a",
 *     "savedAt": "2025-01-01T00:00:00.000Z",
 *     "ports": [ { "name": "vnet3", "mapping": "100", "plug": "attach" },
 *                { "name": "tap9", "mapping": "trunk:10=100,20=200", "plug": "create", "persistent": true } ] }
 * `mapping` is the port mapping text (port-mapping-text.ts), `plug` one of
 * @dvs/wire PORT_PLUGS.
 *
 * Written atomically: a temporary file beside it (same directory, so the
 * rename stays on one file system), written and fsync'd, renamed over the
 * old one, then the directory fsync'd. A crash at any point leaves either
 * the old file or the new one, never half of one.
 *
 * Read: a missing file is no ports. A file that is not a valid state file
 * (truncated, hand-edited wrong, another format) is moved aside as
 * `<file>.corrupt-<time>` and reported; the agent starts with its config's
 * ports and writes a new file.
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isPortName, isPortPlug, type PortPlug } from '@dvs/wire';
import { formatPortMapping, parsePortMapping, type PortMapping } from '../config/port-mapping-text.js';
import type { Logger } from '../observe/logger.js';

export const STATE_FILE_FORMAT = 'dvs-agent-state';
export const STATE_FILE_VERSION = 1;

/** A port as the state file keeps it. */
export interface StatePort {
  name: string;
  mapping: PortMapping;
  plug: PortPlug;
  persistent: boolean;
}

export type StateFileRead =
  | { status: 'ok'; ports: StatePort[] }
  | { status: 'missing' }
  /** Not a state file: moved aside to `movedTo` (null when even that failed). */
  | { status: 'corrupt'; problem: string; movedTo: string | null }
  /** Could not be read at all (permissions, I/O): left where it is. */
  | { status: 'unreadable'; problem: string };

/** Reads the state file; a corrupt one is moved aside (see the file comment). Never throws. */
export async function readStateFile(path: string, now: () => number = Date.now): Promise<StateFileRead> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { status: 'missing' };
    return { status: 'unreadable', problem: `${code ?? 'error'}: ${(err as Error).message}` };
  }
  const parsed = parseStateFile(text);
  if (typeof parsed !== 'string') return { status: 'ok', ports: parsed };
  const movedTo = `${path}.corrupt-${new Date(now()).toISOString().replace(/[:.]/g, '-')}`;
  try {
    await rename(path, movedTo);
    return { status: 'corrupt', problem: parsed, movedTo };
  } catch {
    return { status: 'corrupt', problem: parsed, movedTo: null };
  }
}

/** The ports of a state file's text, or what is wrong with it. */
export function parseStateFile(text: string): StatePort[] | string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'not a JSON object';
  const o = doc as Record<string, unknown>;
  if (o.format !== STATE_FILE_FORMAT) return `format is ${JSON.stringify(o.format)}, not "${STATE_FILE_FORMAT}"`;
  if (o.version !== STATE_FILE_VERSION) return `version ${JSON.stringify(o.version)} is not ${STATE_FILE_VERSION}`;
  if (!Array.isArray(o.ports)) return 'ports is not a list';
  const ports: StatePort[] = [];
  const names = new Set<string>();
  for (const [i, raw] of o.ports.entries()) {
    const problem = (what: string): string => `ports[${i}]: ${what}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return problem('not an object');
    const p = raw as Record<string, unknown>;
    if (!isPortName(p.name)) return problem(`name ${JSON.stringify(p.name)} is not an interface name`);
    if (names.has(p.name)) return problem(`port ${p.name} is listed twice`);
    names.add(p.name);
    if (typeof p.mapping !== 'string') return problem('mapping is not a string');
    const mapping = parsePortMapping(p.mapping);
    if (typeof mapping === 'string') return problem(`mapping: ${mapping}`);
    if (!isPortPlug(p.plug)) return problem(`plug ${JSON.stringify(p.plug)} is not create, adopt or attach`);
    if (p.persistent !== undefined && typeof p.persistent !== 'boolean') return problem('persistent is not a boolean');
    ports.push({ name: p.name, mapping, plug: p.plug, persistent: p.persistent === true });
  }
  return ports;
}

/** The text of a state file holding `ports`. */
export function formatStateFile(host: string, ports: readonly StatePort[], now: () => number = Date.now): string {
  const doc = {
    format: STATE_FILE_FORMAT,
    version: STATE_FILE_VERSION,
    host,
    savedAt: new Date(now()).toISOString(),
    ports: ports.map((p) => ({
      name: p.name,
      mapping: formatPortMapping(p.mapping),
      plug: p.plug,
      ...(p.persistent ? { persistent: true } : {}),
    })),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

/**
 * Replaces the state file atomically (see the file comment), creating its
 * directory (mode 0750) when missing. Throws the file system's error.
 */
export async function writeStateFile(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o750 });
  const temporary = join(dir, `.${basename(path)}.tmp-${process.pid}`);
  try {
    const file = await open(temporary, 'w', 0o640);
    try {
      await file.writeFile(text, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
  // The rename itself is durable only once the directory is on disk.
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/**
 * The agent's writer of its state file: one write at a time, in order, each
 * with the ports as they are when it runs. A write that fails is logged and
 * counted, never thrown: the port works, it just would not survive a restart.
 */
export class StateFileWriter {
  /** Writes that failed. */
  errors = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly host: string,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Queues a write of `ports()` (read when the write runs); resolves when it is done. */
  save(ports: () => readonly StatePort[]): Promise<void> {
    this.queue = this.queue.then(async () => {
      try {
        await writeStateFile(this.path, formatStateFile(this.host, ports(), this.now));
      } catch (err) {
        this.errors++;
        this.logger.error('cannot write the state file: run-time ports will not survive a restart', {
          file: this.path,
          error: (err as Error).message,
        });
      }
    });
    return this.queue;
  }
}
