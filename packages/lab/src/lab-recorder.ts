/**
 * Records every creation in the lab's state file before (namespaces) or right
 * after (processes: their pid exists only then) it happens, so `down` can undo
 * all of it from the file alone.
 */
import { ipBatch, runCommand } from './command-runner.js';
import type { LabState, RecordedProcess } from './lab-state.js';
import { saveLabState } from './lab-state.js';
import { spawnDetached, type SpawnDetachedOptions } from './process-control.js';

export class LabRecorder {
  readonly state: LabState;

  constructor(state: LabState) {
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

  async noteLimitation(text: string): Promise<void> {
    await this.update((s) => {
      if (!s.limitations.includes(text)) s.limitations.push(text);
    });
  }
}
