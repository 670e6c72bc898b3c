/** Nomad's rescheduling delays: the first replacement after 5 s, doubling to at most an hour. */
export const RESCHEDULE_FIRST_MS = 5_000;
export const RESCHEDULE_MAX_MS = 3_600_000;
/** No reschedule for this long and the delay starts again from the first. */
export const RESCHEDULE_STABLE_MS = 600_000;

/** How long a deployment waits before it replaces a replica lost with its host. */
export class RescheduleDelay {
  private attempts = 0;
  private lastMs = Number.NEGATIVE_INFINITY;

  /** The wait for the next replacement, as of `nowMs`. */
  delayMs(nowMs: number): number {
    if (nowMs - this.lastMs >= RESCHEDULE_STABLE_MS) this.attempts = 0;
    return Math.min(RESCHEDULE_FIRST_MS * 2 ** this.attempts, RESCHEDULE_MAX_MS);
  }

  /** A replacement was made: the next waits twice as long. */
  rescheduled(nowMs: number): void {
    this.delayMs(nowMs);
    this.attempts = Math.min(this.attempts + 1, 30);
    this.lastMs = nowMs;
  }
}
