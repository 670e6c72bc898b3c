// The throughput streams of one path: N connections writing 64 KiB chunks into the backend's
// sink while it is the path's turn, with the rate taken from the sink's own counts.
import type { Socket } from 'node:net';
import type { HostPort } from '../src/core/address.js';
import { sleep } from './lib.js';
import { open } from './proxy-net.js';
import { CHUNK_BYTES, REPORT_BYTES, SINK } from './proxy-wire.js';

/** After the last write, how long every byte may take to reach the sink. */
const FLUSH_LIMIT_MS = 10_000;

interface Count {
  bytes: number;
  ns: bigint;
}

/** The counts a sink reports on one stream: the latest, and the first inside the current window. */
class SinkCounts {
  last?: Count;
  private first?: Count;
  private from?: bigint;
  private pending = Buffer.alloc(0);

  constructor(sock: Socket) {
    sock.on('data', (d: Buffer) => {
      let buf = this.pending.length ? Buffer.concat([this.pending, d]) : d;
      for (; buf.length >= REPORT_BYTES; buf = buf.subarray(REPORT_BYTES)) {
        const count = { bytes: Number(buf.readBigUInt64BE(0)), ns: buf.readBigUInt64BE(8) };
        this.last = count;
        if (!this.first && this.from !== undefined && count.ns >= this.from) this.first = count;
      }
      this.pending = Buffer.from(buf);
    });
  }

  startWindow(from: bigint): void {
    this.from = from;
    this.first = undefined;
  }

  /** Bytes per second the sink counted from the first report in the window to the latest. */
  rate(): number {
    const a = this.first;
    const b = this.last;
    if (!a || !b || b.ns <= a.ns) return Number.NaN;
    return (b.bytes - a.bytes) / (Number(b.ns - a.ns) / 1e9);
  }
}

interface Stream {
  sock: Socket;
  counts: SinkCounts;
  /** Bytes handed to write(): what the sink must have counted once everything is flushed. */
  queued: number;
  pump: () => void;
}

export class Streams {
  private running = false;
  private closing = false;
  private failure?: Error;
  private readonly chunk = Buffer.alloc(CHUNK_BYTES, 0x61);
  private readonly streams: Stream[] = [];

  private constructor(private readonly name: string) {}

  static async open(name: string, to: HostPort, count: number): Promise<Streams> {
    const set = new Streams(name);
    try {
      for (let i = 0; i < count; i++) set.add(await open(to));
    } catch (err) {
      set.destroy();
      throw err;
    }
    return set;
  }

  private add(sock: Socket): void {
    const stream: Stream = {
      sock,
      counts: new SinkCounts(sock),
      queued: 0,
      pump: () => {
        while (this.running) {
          stream.queued += CHUNK_BYTES;
          if (!sock.write(this.chunk)) return;
        }
      },
    };
    sock.on('error', (err) => (this.failure ??= err));
    sock.on('close', () => {
      if (!this.closing) this.failure ??= new Error(`${this.name} closed a stream`);
    });
    sock.on('drain', stream.pump);
    sock.write(Buffer.of(SINK));
    this.streams.push(stream);
  }

  /** Starts writing on every stream (as fast as each takes it). */
  go(): void {
    this.running = true;
    for (const s of this.streams) s.pump();
  }

  /** Stops writing; what is already queued still flows. */
  pause(): void {
    this.running = false;
  }

  startWindow(from: bigint): void {
    for (const s of this.streams) s.counts.startWindow(from);
  }

  /** Bytes per second through all streams since startWindow(), by the sink's counts. */
  rate(): number {
    this.check();
    return this.streams.reduce((sum, s) => sum + s.counts.rate(), 0);
  }

  /** Stops, waits until the sink has counted every byte written, and closes. A proxy that loses data gets no figure. */
  async finish(): Promise<void> {
    this.pause();
    const pending = () => this.streams.find((s) => s.counts.last?.bytes !== s.queued);
    const deadline = Date.now() + FLUSH_LIMIT_MS;
    while (pending() && Date.now() < deadline && !this.failure) await sleep(20);
    this.check();
    const short = pending();
    if (short)
      throw new Error(
        `the backend counted ${short.counts.last?.bytes ?? 0} of ${short.queued} bytes sent through ${this.name} (${FLUSH_LIMIT_MS / 1000} s after the last write)`,
      );
    this.destroy();
  }

  destroy(): void {
    this.running = false;
    this.closing = true;
    for (const s of this.streams) s.sock.destroy();
  }

  private check(): void {
    if (this.failure) throw new Error(`stream through ${this.name}: ${this.failure.message}`);
  }
}
