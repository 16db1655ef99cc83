/**
 * Records every creation in the lab's state file before (namespaces) or right
 * after (processes: their pid exists only then) it happens, so `down` can undo
 * all of it from the file alone.
 */
import { ipBatch, runCommand } from './command-runner.js';
import type { LabState, RecordedProcess } from './lab-state.js';
import { saveLabState } from './lab-state.js';
import { spawnDetached, type SpawnDetachedOptions } from './process-control.js';

/** Says a limitation out loud, once, as it happens (default: one line on stderr). */
export type LimitationNotice = (text: string) => void;

const onStderr: LimitationNotice = (text) => process.stderr.write(`dvs lab: limitation: ${text}\n`);

export class LabRecorder {
  readonly state: LabState;

  constructor(
    state: LabState,
    private readonly notice: LimitationNotice = onStderr,
  ) {
    this.state = state;
  }

  private saving: Promise<void> = Promise.resolve();

  /** Applies a change and writes the file; writes are serialized so the last one on disk is the newest. */
  async update(change: (state: LabState) => void): Promise<void> {
    change(this.state);
    const next = this.saving.then(() => saveLabState(this.state));
    this.saving = next.catch(() => undefined);
    await next;
  }

  /** Creates a network namespace with loopback up. */
  async createNamespace(name: string): Promise<void> {
    await this.update((s) => {
      if (!s.namespaces.includes(name)) s.namespaces.push(name);
    });
    await runCommand(['ip', 'netns', 'add', name]);
    await ipBatch(name, ['link set lo up']);
  }

  async spawn(options: SpawnDetachedOptions): Promise<RecordedProcess> {
    const p = await spawnDetached(options);
    await this.update((s) => s.processes.push(p));
    return p;
  }

  /** A way this lab falls short of a full one (a program not built, …): said at once, and kept in the state. */
  async noteLimitation(text: string): Promise<void> {
    if (this.state.limitations.includes(text)) return;
    this.notice(text);
    await this.update((s) => s.limitations.push(text));
  }
}
