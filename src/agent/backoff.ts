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

  /** One first step (about base), without ramping up: the wait before trying another controller. */
  first(): number {
    return Math.round(this.baseMs * (0.8 + 0.4 * this.random()));
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

/**
 * With several controllers, a dial that is not answered within this long (an agent's welcome, a
 * dashboard's first snapshot) is given up for the next: a host that takes the connection and
 * never answers (frozen, or its packets dropped) would otherwise hold it forever, since gRPC
 * waits on a connecting channel without end. One controller is waited for, as always.
 */
export const WELCOME_TIMEOUT_MS = 5000;

/**
 * Which controller to dial next, and after how long, for a list of them (`--controller A,B,C`).
 * A lost or refused dial moves on to the next address after one first step (about a second),
 * not a ramped wait: another controller may well answer. Only once every address in the list
 * has failed in a row does the wait grow (the backoff's ramp, or its longest wait when the last
 * one refused us for good). With one address this is exactly the plain backoff.
 */
export class Rotation {
  private index = 0;
  /** Failures in a row since the last full round (or good session). */
  private failedInRound = 0;

  constructor(
    readonly addresses: readonly string[],
    private readonly backoff: Backoff = new Backoff(),
  ) {
    if (addresses.length === 0) throw new Error('a rotation needs at least one address');
  }

  /** The address to dial now. */
  get current(): string {
    return this.addresses[this.index]!;
  }

  /** After a dial that failed or a session that was lost: the next address and the wait before dialling it. */
  failed(stubborn = false): { address: string; waitMs: number; roundOver: boolean } {
    this.index = (this.index + 1) % this.addresses.length;
    this.failedInRound++;
    if (this.failedInRound < this.addresses.length)
      return { address: this.current, waitMs: this.backoff.first(), roundOver: false };
    this.failedInRound = 0;
    return { address: this.current, waitMs: stubborn ? this.backoff.max() : this.backoff.next(), roundOver: true };
  }

  /** The same address again after one first step (a rejoin: nothing failed). */
  again(): number {
    return this.backoff.first();
  }

  /** A good session: the next loss starts a fresh round with the shortest wait. */
  succeeded(): void {
    this.failedInRound = 0;
    this.backoff.reset();
  }
}
