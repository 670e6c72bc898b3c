/** The newest `capacity` bytes of a workload's output; older bytes are dropped as new ones come. */
export class OutputRing {
  private readonly buf: Buffer;
  private start = 0;
  private length = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0)
      throw new RangeError(`output ring capacity must be a positive integer, got ${capacity}`);
    this.buf = Buffer.alloc(capacity);
  }

  get size(): number {
    return this.length;
  }

  write(data: Buffer): void {
    const src = data.length > this.capacity ? data.subarray(data.length - this.capacity) : data;
    const end = (this.start + this.length) % this.capacity;
    const first = Math.min(src.length, this.capacity - end);
    src.copy(this.buf, end, 0, first);
    src.copy(this.buf, 0, first);
    const overflow = Math.max(0, this.length + src.length - this.capacity);
    this.length = Math.min(this.capacity, this.length + src.length);
    this.start = (this.start + overflow) % this.capacity;
  }

  /** The newest `n` bytes (all by default), oldest first, as a copy. */
  tail(n = this.length): Buffer {
    const take = Math.max(0, Math.min(n, this.length));
    const from = (this.start + this.length - take) % this.capacity;
    const out = Buffer.allocUnsafe(take);
    const first = Math.min(take, this.capacity - from);
    this.buf.copy(out, 0, from, from + first);
    this.buf.copy(out, first, 0, take - first);
    return out;
  }
}
