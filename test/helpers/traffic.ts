import { connect } from 'node:net';

export interface TrafficReport {
  ok: number;
  failed: number;
  /** The first failures, for the test's message. */
  failures: string[];
  /** Requests answered per version (the echo server's first word). */
  byVersion: Record<string, number>;
  /** Connect + request + answer, per request: the slowest, and the 99th percentile. */
  maxMs: number;
  p99Ms: number;
}

export interface Traffic {
  /** Counts so far. */
  report(): TrafficReport;
  /** Stops the clients (each finishes its request in flight) and reports. */
  stop(): Promise<TrafficReport>;
}

const MAX_FAILURES_KEPT = 20;
const MAX_LATENCIES = 100_000;

/**
 * Real TCP clients through a route: each opens a fresh connection, sends a line, waits for the
 * answer and closes, over and over (bounded in time and count). A refused, reset, timed-out or
 * unanswered request is a failed connection.
 */
export function startTraffic(
  address: string,
  opts: { clients?: number; pauseMs?: number; timeoutMs?: number; maxMs?: number; maxRequests?: number } = {},
): Traffic {
  const [host, portText] = [address.slice(0, address.lastIndexOf(':')), address.slice(address.lastIndexOf(':') + 1)];
  const { clients = 4, pauseMs = 5, timeoutMs = 40_000, maxMs = 180_000, maxRequests = 200_000 } = opts;
  const r: TrafficReport = { ok: 0, failed: 0, failures: [], byVersion: {}, maxMs: 0, p99Ms: 0 };
  const latencies: number[] = [];
  const until = Date.now() + maxMs;
  let stopping = false;
  let sent = 0;

  const once = (n: number) =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const socket = connect({ host, port: Number(portText) });
      let answer = '';
      let settled = false;
      const settle = (error?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        const ms = performance.now() - t0;
        if (error) {
          r.failed++;
          if (r.failures.length < MAX_FAILURES_KEPT)
            r.failures.push(`request ${n}: ${error} after ${ms.toFixed(0)} ms`);
        } else {
          r.ok++;
          const version = answer.split(' ')[0]!;
          r.byVersion[version] = (r.byVersion[version] ?? 0) + 1;
          r.maxMs = Math.max(r.maxMs, ms);
          if (latencies.length < MAX_LATENCIES) latencies.push(ms);
        }
        resolve();
      };
      const timer = setTimeout(() => settle(`no answer within ${timeoutMs} ms`), timeoutMs);
      socket.setEncoding('utf8');
      socket.on('connect', () => socket.write(`ping ${n}\n`));
      socket.on('data', (d: string) => {
        answer += d;
        if (answer.includes('\n'))
          settle(answer.endsWith(` ping ${n}\n`) ? undefined : `wrong answer "${answer.trim()}"`);
      });
      socket.on('error', (err) => settle(err.message));
      socket.on('close', () => settle('closed without an answer'));
    });

  const worker = async () => {
    while (!stopping && Date.now() < until && sent < maxRequests) {
      await once(sent++);
      await new Promise((res) => setTimeout(res, pauseMs));
    }
  };
  const running = Promise.all(Array.from({ length: clients }, worker));
  const report = (): TrafficReport => {
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      ...r,
      byVersion: { ...r.byVersion },
      failures: [...r.failures],
      p99Ms: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
    };
  };
  return {
    report,
    async stop() {
      stopping = true;
      await running;
      return report();
    },
  };
}
