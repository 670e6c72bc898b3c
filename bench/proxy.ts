// Proxy: the yard proxy (the agent's Proxy, one route) against a direct connection and against
// HAProxy doing the same forwarding, all to the same backend process and from the same client
// process: throughput of N streams, and added latency on persistent and fresh connections.
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { YardProcess } from './lib.js';
import type { ClientPlan, ClientReport, PathPlan, PathReport } from './proxy-plan.js';
import { findHaproxy, startHaproxy } from './proxy-haproxy.js';
import { PHASE_LIMIT_MS } from './proxy-wire.js';

const script = (name: string) => resolve(import.meta.dirname, name);

export interface ProxyBenchOptions {
  streams: number;
  seconds: number;
  log: (line: string) => void;
}

export interface ProxyBenchResult {
  paths: PathReport[];
  plan: Omit<ClientPlan, 'paths' | 'backendPid'>;
  /** `haproxy -v`, or why HAProxy was left out. */
  haproxy: { version: string } | { skipped: string };
  cores: number;
  /** WARN/ERROR lines the yard proxy logged (the last few). */
  yardWarnings: string[];
}

export async function runProxyBench(opts: ProxyBenchOptions): Promise<ProxyBenchResult> {
  const plan = {
    streams: opts.streams,
    warmupS: 1,
    seconds: opts.seconds,
    roundTrips: 20_000,
    warmupRoundTrips: 2_000,
    connects: 2_000,
    warmupConnects: 200,
    rounds: 10,
  };
  const stops: (() => Promise<void>)[] = [];
  try {
    const backend = new YardProcess('proxy backend', [], script('proxy-backend.js'));
    stops.push(() => backend.kill());
    const backendAddress = `127.0.0.1:${(await backend.waitForOutput(/listening (\d+)/, 10_000))[1]}`;

    const yard = new YardProcess('yard proxy', [backendAddress], script('proxy-child.js'));
    stops.push(() => yard.kill());
    const ready = await yard.waitForOutput(/proxy ready pid=(\d+) port=(\d+)/, 30_000);
    const paths: PathPlan[] = [
      { name: 'direct', address: backendAddress },
      { name: 'yard', address: `127.0.0.1:${ready[2]}`, proxyPid: Number(ready[1]) },
    ];

    let haproxy: ProxyBenchResult['haproxy'];
    const bin = findHaproxy();
    if (!bin) {
      haproxy = { skipped: 'haproxy not found: apt-get install haproxy to compare' };
      opts.log(`  ${haproxy.skipped}`);
    } else {
      try {
        const h = await startHaproxy(bin, backendAddress);
        stops.push(() => h.stop());
        haproxy = { version: h.version };
        paths.push({ name: 'haproxy', address: h.address, proxyPid: h.pid });
      } catch (err) {
        haproxy = { skipped: `${bin} did not start: ${(err as Error).message.split('\n')[0]}` };
        opts.log(`  ${haproxy.skipped}`);
      }
    }
    opts.log(
      `  backend pid ${backend.pid} on ${backendAddress}; ${paths
        .slice(1)
        .map((p) => `${p.name} pid ${p.proxyPid} on ${p.address}`)
        .join('; ')}`,
    );
    opts.log(
      `  per path: ${plan.streams} streams, ${plan.warmupS} s warm-up + ${plan.seconds} × 1 s turns; ${plan.roundTrips} round trips; ${plan.connects} new connections…`,
    );

    const client = new YardProcess(
      'proxy client',
      [JSON.stringify({ ...plan, paths, backendPid: backend.pid } satisfies ClientPlan)],
      script('proxy-client.js'),
    );
    stops.push(() => client.kill());
    // The client bounds each batch itself (PHASE_LIMIT_MS); this only catches a client that is stuck.
    const limitMs = paths.length * ((plan.warmupS + 1.25 * plan.seconds) * 1000 + 2 * PHASE_LIMIT_MS);
    const result = await client.waitForOutput(/^result (.*)$/m, limitMs);
    const report = JSON.parse(result[1]!) as ClientReport;
    return { paths: report.paths, plan, haproxy, cores: cpus().length, yardWarnings: [...yard.lastWarnings] };
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}
