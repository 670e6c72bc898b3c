/**
 * A fixed-size ring of numbers. NaN stands for "unknown" (a reading the source did not
 * give), so a gap stays a gap instead of becoming a zero. Readings (percentages, rates, °C)
 * are kept as 32-bit floats, half the memory of a fleet's history; timestamps need 'f64'.
 */
export class RingBuffer {
  private readonly data: Float32Array | Float64Array;
  private start = 0;
  private count = 0;

  constructor(
    readonly capacity: number,
    precision: 'f32' | 'f64' = 'f32',
  ) {
    if (!Number.isInteger(capacity) || capacity <= 0)
      throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    this.data = precision === 'f64' ? new Float64Array(capacity) : new Float32Array(capacity);
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
