/** Recent readings as a chart reads them: NaN in `values` stands for "unknown". */
export interface Readings {
  readonly length: number;
  /** The newest `n` values (all by default), oldest first. */
  values(n?: number): number[];
  /** The newest value, or undefined when empty or unknown. */
  last(): number | undefined;
}

/**
 * A fixed-size ring of numbers, kept as 32-bit floats. NaN stands for "unknown" (a reading the
 * source did not give), so a gap stays a gap instead of becoming a zero.
 */
export class RingBuffer implements Readings {
  private readonly data: Float32Array;
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0)
      throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    this.data = new Float32Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  push(value: number | undefined): void {
    const v = value === undefined ? Number.NaN : value;
    if (this.count < this.capacity) {
      this.data[(this.start + this.count) % this.capacity] = v;
      this.count++;
    } else {
      this.data[this.start] = v;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** The newest value, or undefined when empty or unknown. */
  last(): number | undefined {
    if (this.count === 0) return undefined;
    const v = this.data[(this.start + this.count - 1) % this.capacity]!;
    return Number.isNaN(v) ? undefined : v;
  }

  /** The newest `n` values (all by default), oldest first. */
  values(n = this.count): number[] {
    const take = Math.min(n, this.count);
    const out = new Array<number>(take);
    const from = this.count - take;
    for (let i = 0; i < take; i++) out[i] = this.data[(this.start + from + i) % this.capacity]!;
    return out;
  }

  clear(): void {
    this.start = 0;
    this.count = 0;
  }
}
