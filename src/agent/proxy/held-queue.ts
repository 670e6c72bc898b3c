// Clients waiting for a backend (cut-over or not yet checked), oldest first. Their sockets stay
// paused, so what they send waits in the kernel. Bounded in count, and in time by one timer for
// the whole queue: the head always has the nearest deadline.
import type { Connection } from './connection.js';

/** Past this, dead entries (clients gone while waiting) are swept out. */
const SWEEP_AT = 1024;

export class HeldQueue {
  private items: Connection[] = [];
  private head = 0;
  private live = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly limit: number,
    private timeoutMs: number,
    private readonly expired: (conn: Connection) => void,
  ) {}

  get size(): number {
    return this.live;
  }

  /** When the longest-waiting client started its wait (0 when none waits). */
  get oldestAt(): number {
    for (let i = this.head; i < this.items.length; i++) if (this.items[i]!.queued) return this.items[i]!.heldAt;
    return 0;
  }

  /** False when the queue is full: the caller refuses the client. */
  push(conn: Connection): boolean {
    if (this.live >= this.limit) return false;
    conn.heldAt = Date.now();
    conn.queued = true;
    this.items.push(conn);
    this.live++;
    this.arm();
    return true;
  }

  /** A client that went away while waiting. */
  remove(conn: Connection): void {
    if (!conn.queued) return;
    conn.queued = false;
    this.live--;
    if (this.items.length - this.head - this.live > SWEEP_AT) {
      this.items = this.items.slice(this.head).filter((c) => c.queued);
      this.head = 0;
    }
  }

  shift(): Connection | undefined {
    while (this.head < this.items.length) {
      const conn = this.items[this.head++]!;
      if (!conn.queued) continue;
      conn.queued = false;
      this.live--;
      this.compact();
      return conn;
    }
    this.compact();
    return undefined;
  }

  setTimeoutMs(ms: number): void {
    if (ms === this.timeoutMs) return;
    this.timeoutMs = ms;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.arm();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > SWEEP_AT && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  private arm(): void {
    if (this.timer || this.live === 0) return;
    const wait = Math.max(0, this.oldestAt + this.timeoutMs - Date.now());
    this.timer = setTimeout(this.expire, wait).unref();
  }

  private readonly expire = (): void => {
    this.timer = undefined;
    const now = Date.now();
    while (this.live > 0 && this.oldestAt + this.timeoutMs <= now) this.expired(this.shift()!);
    this.arm();
  };
}
