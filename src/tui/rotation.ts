/** Keys a wall display answers to besides help and quit: they change what it shows, never the fleet. */
const WALL_KEYS = { pause: ['space'], next: ['n', 'right', 'pagedown'] } as const;

/**
 * A wall display's timer: calls `turn` every `everyMs` until stopped, and says how long until
 * the next turn. One timer at a time, re-armed after each turn, so nothing piles up in a week.
 * Paused, it holds the page on screen until resumed; a skip turns at once and starts the count again.
 */
export class Rotation {
  private timer: NodeJS.Timeout | undefined;
  private dueAt = 0;
  private held = false;

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

  get paused(): boolean {
    return this.held;
  }

  /** Space: hold the page on screen, or let the pages turn again (a full interval from now). */
  togglePause(): void {
    this.held = !this.held;
    if (this.held) this.stop();
    else this.start();
  }

  /** The next page now; a paused wall stays paused on it. */
  skip(): void {
    this.turn();
    if (!this.held) this.start();
  }

  /** A wall key (WALL_KEYS): true when it was one. */
  press(key: string): boolean {
    if ((WALL_KEYS.pause as readonly string[]).includes(key)) this.togglePause();
    else if ((WALL_KEYS.next as readonly string[]).includes(key)) this.skip();
    else return false;
    return true;
  }

  /** Milliseconds until the next turn (the whole interval while paused). */
  remaining(): number {
    return this.held ? this.everyMs : Math.max(0, this.dueAt - this.now());
  }
}
