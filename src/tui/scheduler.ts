/** Something on screen that rebuilds its widgets' content when it was marked dirty. */
export interface Part {
  update(): void;
}

/** At most this many frames a second from data changes; key input renders at once. */
export const MAX_FPS = 4;

/**
 * The one render loop. Parts mark themselves dirty as often as they like (a fleet of 1,000
 * hosts sends 1,000 samples a second); frames are coalesced so the screen is drawn at most
 * MAX_FPS times a second, and only here: no widget calls screen.render() itself.
 */
export class RenderScheduler {
  private readonly dirty = new Set<Part>();
  private timer: NodeJS.Timeout | undefined;
  private lastFrameAt = Number.NEGATIVE_INFINITY;
  private stopped = false;
  /** Milliseconds the last frame took (update + render), for the curious and the benchmark. */
  lastFrameMs = 0;

  constructor(
    private readonly draw: () => void,
    private readonly minIntervalMs = 1000 / MAX_FPS,
  ) {}

  markDirty(part: Part): void {
    if (this.stopped) return;
    this.dirty.add(part);
    if (this.timer) return;
    const wait = Math.max(0, this.lastFrameAt + this.minIntervalMs - performance.now());
    this.timer = setTimeout(() => this.flush(), wait);
    // The dashboard's input stream keeps the process alive, not a pending frame.
    this.timer.unref();
  }

  /** Draws now (after key input), dropping any frame that was waiting. */
  renderNow(): void {
    if (!this.stopped) this.flush();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty.clear();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const started = performance.now();
    const parts = [...this.dirty];
    this.dirty.clear();
    for (const part of parts) part.update();
    this.draw();
    this.lastFrameAt = performance.now();
    this.lastFrameMs = this.lastFrameAt - started;
  }
}
