/**
 * The fakes' EAGAIN simulation and writable readiness, shaped like uv_poll on
 * a real fd: a budget of frames still taken (null: no limit), and a one-shot
 * writable handler that runs on a later loop turn (setImmediate) once there
 * is room again, never after the owner closed.
 */
export class WritableNotifier {
  private currentBudget: number | null = null;
  private handler: (() => void) | null = null;

  constructor(private readonly isClosed: () => boolean) {}

  get budget(): number | null {
    return this.currentBudget;
  }

  /** Takes one frame from the budget; false when it is spent (the caller stops, as at EAGAIN). */
  take(): boolean {
    if (this.currentBudget === null) return true;
    if (this.currentBudget <= 0) return false;
    this.currentBudget--;
    return true;
  }

  set(handler: (() => void) | null): void {
    this.handler = handler;
    this.poke();
  }

  /** Lifts or changes the budget; runs a pending handler when there is room. */
  setBudget(budget: number | null): void {
    this.currentBudget = budget;
    this.poke();
  }

  private poke(): void {
    if (this.handler === null || (this.currentBudget !== null && this.currentBudget <= 0)) return;
    const handler = this.handler;
    this.handler = null;
    setImmediate(() => {
      if (!this.isClosed()) handler();
    });
  }
}
