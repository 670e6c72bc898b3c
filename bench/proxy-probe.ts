// The latency side of the proxy benchmark on one path: 64-byte round trips over one persistent
// connection, and connect + one round trip on new connections, a batch at a time.
import { connect, type Socket } from 'node:net';
import type { HostPort } from '../src/core/address.js';
import { cpuSeconds, percentileSorted } from './lib.js';
import { limited, open, Replies } from './proxy-net.js';
import type { Latency } from './proxy-plan.js';
import { ECHO, MESSAGE_BYTES, PHASE_LIMIT_MS } from './proxy-wire.js';

/** Samples (µs) and the proxy's CPU seconds while they were taken. */
class Samples {
  private readonly us: Float64Array;
  private n = 0;
  private cpuS = 0;

  constructor(
    size: number,
    private readonly proxyPid: number | undefined,
  ) {
    this.us = new Float64Array(size);
  }

  add(us: number): void {
    if (this.n < this.us.length) this.us[this.n++] = us;
  }

  /** Runs a batch whose samples are kept, counting the proxy's CPU meanwhile. */
  async measure(batch: () => Promise<void>): Promise<void> {
    const before = this.proxyPid === undefined ? 0 : (cpuSeconds(this.proxyPid) ?? Number.NaN);
    await batch();
    if (this.proxyPid !== undefined) this.cpuS += (cpuSeconds(this.proxyPid) ?? Number.NaN) - before;
  }

  summary(): Latency {
    const sorted = Array.from(this.us.subarray(0, this.n)).sort((a, b) => a - b);
    return {
      n: sorted.length,
      p50: percentileSorted(sorted, 50),
      p99: percentileSorted(sorted, 99),
      p999: percentileSorted(sorted, 99.9),
      max: sorted[sorted.length - 1] ?? Number.NaN,
      proxyCpuUs: this.proxyPid === undefined ? undefined : (this.cpuS * 1e6) / sorted.length,
    };
  }
}

/** One path's probes: samples in microseconds, at most as many as asked for at the start. */
export class PathProbe {
  readonly persistent: Samples;
  readonly fresh: Samples;
  private conn?: { sock: Socket; replies: Replies };
  private current?: Socket;
  private readonly msg = Buffer.alloc(MESSAGE_BYTES, 0x62);
  private readonly request = Buffer.alloc(1 + MESSAGE_BYTES, 0x63);

  constructor(
    private readonly name: string,
    private readonly to: HostPort,
    proxyPid: number | undefined,
    roundTrips: number,
    connects: number,
  ) {
    this.persistent = new Samples(roundTrips, proxyPid);
    this.fresh = new Samples(connects, proxyPid);
    this.request[0] = ECHO;
  }

  /** `count` round trips, one at a time, on the one persistent connection; samples kept unless a warm-up. */
  roundTrips(count: number, keep: boolean): Promise<void> {
    const batch = () => this.roundTripBatch(count, keep);
    return keep ? this.persistent.measure(batch) : batch();
  }

  /** `count` times: connect, one round trip, close; samples kept unless a warm-up. */
  connects(count: number, keep: boolean): Promise<void> {
    const batch = () => this.connectBatch(count, keep);
    return keep ? this.fresh.measure(batch) : batch();
  }

  private roundTripBatch(count: number, keep: boolean): Promise<void> {
    return limited(
      `round trips through ${this.name}`,
      PHASE_LIMIT_MS,
      () => this.close(),
      async () => {
        if (!this.conn) {
          const sock = await open(this.to);
          this.conn = { sock, replies: new Replies(sock, `round trip through ${this.name}`) };
          sock.write(Buffer.of(ECHO));
        }
        const { sock, replies } = this.conn;
        for (let i = 0; i < count; i++) {
          // The previous echo has come back, so its write is done and the buffer is free again.
          this.msg.writeInt32BE(i, 0);
          const t0 = process.hrtime.bigint();
          sock.write(this.msg);
          const got = await replies.read(MESSAGE_BYTES);
          const t1 = process.hrtime.bigint();
          this.checkEcho(this.msg, got);
          if (keep) this.persistent.add(Number(t1 - t0) / 1000);
        }
      },
    );
  }

  private connectBatch(count: number, keep: boolean): Promise<void> {
    return limited(
      `new connections to ${this.name}`,
      PHASE_LIMIT_MS,
      () => this.current?.destroy(),
      async () => {
        const msg = this.request.subarray(1);
        for (let i = 0; i < count; i++) {
          msg.writeInt32BE(i, 0);
          const t0 = process.hrtime.bigint();
          const sock = connect({ host: this.to.host, port: this.to.port, noDelay: true });
          this.current = sock;
          const replies = new Replies(sock, `new connection to ${this.name}`);
          sock.write(this.request);
          try {
            const got = await replies.read(MESSAGE_BYTES);
            const t1 = process.hrtime.bigint();
            this.checkEcho(msg, got);
            if (keep) this.fresh.add(Number(t1 - t0) / 1000);
          } finally {
            sock.destroy();
          }
        }
      },
    );
  }

  close(): void {
    this.conn?.sock.destroy();
    this.conn = undefined;
    this.current?.destroy();
  }

  /** A proxy that mixes up connections or bytes gets no figure. */
  private checkEcho(sent: Buffer, got: Buffer): void {
    if (!got.equals(sent)) throw new Error(`${this.name} returned bytes that differ from the request`);
  }
}
