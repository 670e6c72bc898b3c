// Scrape cost: one controller polling N hosts through node_exporter pages (issue 15), against the
// same controller idle. The page is one real node_exporter page, captured from Debian's
// prometheus-node-exporter when the step starts, served on loopback at N paths.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { CLIENT_OPTIONS } from '../src/core/rpc/options.js';
import { ControlClient, type OverviewResponse } from '../src/gen/switchyard/v1/control.js';
import { freePort, ProcMonitor, sleep, startController, tempDir, waitUntil, type ProcUsage } from './lib.js';

export interface ScrapeCostOptions {
  targets: number;
  /** Each target's poll interval. */
  intervalS: number;
  seconds: number;
  warmupS: number;
  log: (line: string) => void;
}

export interface ScrapeCostResult {
  idle: ProcUsage;
  scraping: ProcUsage;
  pageBytes: number;
  /** Targets online at the end of the window. */
  online: number;
  /** Pages the bench served during the window: polls per second the controller made. */
  pollsPerSecond: number;
}

/** A page from a real node_exporter started on loopback for the purpose, then stopped. */
async function capturePage(): Promise<string> {
  const port = await freePort();
  const child = spawn('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  try {
    return await waitUntil(
      'node_exporter to answer',
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
        return res?.ok ? await res.text() : undefined;
      },
      15_000,
    );
  } finally {
    child.kill('SIGKILL');
  }
}

async function overview(control: string): Promise<OverviewResponse> {
  const client = new ControlClient(control, credentials.createInsecure(), CLIENT_OPTIONS);
  try {
    return await new Promise((resolve, reject) =>
      client.overview({}, new Metadata(), { deadline: Date.now() + 10_000 }, (err, res) =>
        err ? reject(err) : resolve(res),
      ),
    );
  } finally {
    client.close();
  }
}

export async function runScrapeCost(opts: ScrapeCostOptions): Promise<ScrapeCostResult> {
  const page = await capturePage();
  let served = 0;
  const server = createServer((req, res) => {
    served++;
    res.writeHead(/^\/host\/\d+\/metrics$/.test(req.url ?? '') ? 200 : 404, { 'content-type': 'text/plain' });
    res.end(page);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as { port: number };
  const file = join(tempDir('yard-bench-scrape-'), 'scrape.yaml');
  const entries = Array.from(
    { length: opts.targets },
    (_, i) =>
      `  - name: host-${i}\n    url: http://127.0.0.1:${port}/host/${i}/metrics\n    interval: ${opts.intervalS}s`,
  );
  writeFileSync(file, `scrape:\n${entries.join('\n')}\n`);
  try {
    // The idle baseline: the same controller, no targets.
    const idleCtl = await startController();
    await sleep(opts.warmupS * 1000);
    const idleMon = new ProcMonitor(idleCtl.proc.pid);
    await sleep(opts.seconds * 1000);
    const idle = idleMon.stop();
    await idleCtl.proc.kill();

    const ctl = await startController({ args: ['--scrape-file', file] });
    try {
      opts.log(`  controller pid ${ctl.proc.pid} polling ${opts.targets} targets every ${opts.intervalS} s…`);
      await waitUntil(
        `${opts.targets} scraped hosts online`,
        async () => ((await overview(ctl.control)).serversOnline === opts.targets ? true : undefined),
        60_000,
      );
      await sleep(opts.warmupS * 1000);
      const before = served;
      const mon = new ProcMonitor(ctl.proc.pid);
      await sleep(opts.seconds * 1000);
      const scraping = mon.stop();
      const o = await overview(ctl.control);
      return {
        idle,
        scraping,
        pageBytes: Buffer.byteLength(page),
        online: o.serversOnline,
        pollsPerSecond: (served - before) / scraping.windowS,
      };
    } finally {
      await ctl.proc.kill();
    }
  } finally {
    server.closeAllConnections();
    server.close();
  }
}
