/**
 * A wall display's timer: calls `turn` every `everyMs` until stopped, and says how long until
 * the next turn. One timer at a time, re-armed after each turn, so nothing piles up in a week.
 */
export class Rotation {
  private timer: NodeJS.Timeout | undefined;
  private dueAt = 0;

  constructor(
    private readonly everyMs: number,
    private readonly turn: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.stop();
    this.dueAt = this.now() + this.everyMs;
    this.timer = setTimeout(() => {
      this.turn();
      this.start();
    }, this.everyMs);
    // The dashboard's input keeps the process alive, not the rotation.
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Milliseconds until the next turn. */
  remaining(): number {
    return Math.max(0, this.dueAt - this.now());
  }
}
