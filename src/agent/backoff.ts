/** Jittered exponential backoff: about 1 s, doubling to 30 s; reset on a good session. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly baseMs = 1000,
    private readonly maxMs = 30_000,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    // ±20 % so a fleet that lost its controller does not come back in lockstep.
    return Math.round(ceiling * (0.8 + 0.4 * this.random()));
  }

  /** Jump to the longest wait: for refusals that will not cure themselves soon. */
  max(): number {
    this.attempt = 30;
    return this.next();
  }

  reset(): void {
    this.attempt = 0;
  }
}
