import type { Readings } from './ring.js';
import type { GpuSample, HostSample } from './types.js';

/** Enough points for the widest chart we draw (a 200-column server view). */
export const SERIES_CAPACITY = 240;

/** A 16-bit cell that holds an unknown reading (an integer has no NaN). */
const UNKNOWN = 0xffff;

/**
 * Bounded readings are kept in 16 bits as value × scale, rounded: percentages and °C to a
 * hundredth, watts to a tenth, finer than any chart draws. A host's history is most of the
 * controller's memory per server, and 16 bits is half of a float's. A reading outside what 16
 * bits hold (below 0, above 655.34 % or 6,553.4 W) is kept at the nearest end.
 */
const SCALE = { pct: 100, celsius: 100, watts: 10 } as const;
type Scale = (typeof SCALE)[keyof typeof SCALE];

export interface GpuSeries {
  uuid: string;
  name: string;
  utilization: Readings;
  /** Memory used, percent of total. */
  memory: Readings;
  temperature: Readings;
  power: Readings;
}

/**
 * One server's points, oldest first, in a ring: one slot per sample, shared by every column, so
 * a server's whole history is three typed arrays however many GPUs it has.
 */
class PointRing {
  private start = 0;
  private count = 0;
  readonly timestamps: Float64Array;
  /** Network rx and tx bytes a second, unbounded: 32-bit floats. */
  readonly rates: Float32Array;
  /** Bounded readings, 16-bit: CPU and memory, then four a GPU; a column is `capacity` cells. */
  levels: Uint16Array;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0)
      throw new RangeError(`series capacity must be a positive integer, got ${capacity}`);
    this.timestamps = new Float64Array(capacity);
    this.rates = new Float32Array(2 * capacity);
    this.levels = new Uint16Array(2 * capacity);
  }

  get length(): number {
    return this.count;
  }

  /** Where the `i`-th oldest point is kept. */
  slot(i: number): number {
    return (this.start + i) % this.capacity;
  }

  /** Makes room for a new point (the oldest goes when full) and says where it is kept. */
  advance(): number {
    if (this.count < this.capacity) return this.slot(this.count++);
    const slot = this.start;
    this.start = (this.start + 1) % this.capacity;
    return slot;
  }

  /** Adds `n` columns of bounded readings, unknown at every point so far; returns the first's index. */
  addLevelColumns(n: number): number {
    const first = this.levels.length / this.capacity;
    const grown = new Uint16Array(this.levels.length + n * this.capacity).fill(UNKNOWN);
    grown.set(this.levels);
    this.levels = grown;
    return first;
  }
}

/** The readings of one column, as charts read them. */
abstract class Column implements Readings {
  constructor(protected readonly ring: PointRing) {}

  /** The reading kept at `slot` (NaN when unknown). */
  protected abstract at(slot: number): number;

  get length(): number {
    return this.ring.length;
  }

  values(n = this.ring.length): number[] {
    const take = Math.min(n, this.ring.length);
    const from = this.ring.length - take;
    const out = new Array<number>(take);
    for (let i = 0; i < take; i++) out[i] = this.at(this.ring.slot(from + i));
    return out;
  }

  last(): number | undefined {
    if (this.ring.length === 0) return undefined;
    const v = this.at(this.ring.slot(this.ring.length - 1));
    return Number.isNaN(v) ? undefined : v;
  }
}

class TimestampColumn extends Column {
  protected at(slot: number): number {
    return this.ring.timestamps[slot]!;
  }
}

class RateColumn extends Column {
  constructor(
    ring: PointRing,
    private readonly offset: number,
  ) {
    super(ring);
  }

  protected at(slot: number): number {
    return this.ring.rates[this.offset + slot]!;
  }
}

class LevelColumn extends Column {
  constructor(
    ring: PointRing,
    private readonly column: number,
    private readonly scale: Scale,
  ) {
    super(ring);
  }

  protected at(slot: number): number {
    const cell = this.ring.levels[this.column * this.ring.capacity + slot]!;
    return cell === UNKNOWN ? Number.NaN : cell / this.scale;
  }

  put(slot: number, value: number | undefined): void {
    this.ring.levels[this.column * this.ring.capacity + slot] =
      value === undefined || Number.isNaN(value)
        ? UNKNOWN
        : Math.min(UNKNOWN - 1, Math.max(0, Math.round(value * this.scale)));
  }
}

/** One GPU's four columns. */
class GpuColumns implements GpuSeries {
  readonly utilization: LevelColumn;
  readonly memory: LevelColumn;
  readonly temperature: LevelColumn;
  readonly power: LevelColumn;

  constructor(
    readonly uuid: string,
    readonly name: string,
    ring: PointRing,
  ) {
    const first = ring.addLevelColumns(4);
    this.utilization = new LevelColumn(ring, first, SCALE.pct);
    this.memory = new LevelColumn(ring, first + 1, SCALE.pct);
    this.temperature = new LevelColumn(ring, first + 2, SCALE.celsius);
    this.power = new LevelColumn(ring, first + 3, SCALE.watts);
  }

  /** Its readings at `slot`: unknown when the sample did not mention it. */
  put(slot: number, gpu: GpuSample | undefined): void {
    this.utilization.put(slot, gpu?.utilizationPct);
    this.memory.put(slot, percent(gpu?.memoryUsedMib, gpu?.memoryTotalMib));
    this.temperature.put(slot, gpu?.temperatureC);
    this.power.put(slot, gpu?.powerW);
  }
}

function percent(used: number | undefined, total: number | undefined): number | undefined {
  return used === undefined || total === undefined || total <= 0 ? undefined : (used / total) * 100;
}

/** The recent history of one server, in a fixed-size ring: bounded whatever the uptime. */
export class ServerSeries {
  private readonly ring: PointRing;
  readonly timestamps: Readings;
  private readonly cpuColumn: LevelColumn;
  private readonly memoryColumn: LevelColumn;
  readonly netRx: Readings;
  readonly netTx: Readings;
  private readonly gpuColumns: GpuColumns[] = [];

  constructor(capacity = SERIES_CAPACITY) {
    this.ring = new PointRing(capacity);
    this.timestamps = new TimestampColumn(this.ring);
    this.cpuColumn = new LevelColumn(this.ring, 0, SCALE.pct);
    this.memoryColumn = new LevelColumn(this.ring, 1, SCALE.pct);
    this.netRx = new RateColumn(this.ring, 0);
    this.netTx = new RateColumn(this.ring, capacity);
  }

  get cpu(): Readings {
    return this.cpuColumn;
  }

  /** Memory used, percent of total. */
  get memory(): Readings {
    return this.memoryColumn;
  }

  get gpus(): readonly GpuSeries[] {
    return this.gpuColumns;
  }

  /** Appends one sample. GPUs are matched by UUID (index as fallback). */
  record(sample: HostSample): void {
    const slot = this.ring.advance();
    this.ring.timestamps[slot] = sample.timestampMs;
    this.cpuColumn.put(slot, sample.cpuPct);
    this.memoryColumn.put(slot, percent(sample.memoryUsedBytes, sample.memoryTotalBytes));
    this.ring.rates[slot] = sample.netRxBytesPerSec ?? Number.NaN;
    this.ring.rates[this.ring.capacity + slot] = sample.netTxBytesPerSec ?? Number.NaN;
    for (const g of this.gpuColumns) g.put(slot, undefined);
    for (const gpu of sample.gpus) this.gpu(gpu.uuid || `#${gpu.index}`, gpu.name).put(slot, gpu);
  }

  /** The columns of GPU `key`; one that appears late is unknown at every earlier point. */
  private gpu(key: string, name: string): GpuColumns {
    const known = this.gpuColumns.find((g) => g.uuid === key);
    if (known) return known;
    const g = new GpuColumns(key, name, this.ring);
    this.gpuColumns.push(g);
    return g;
  }
}
