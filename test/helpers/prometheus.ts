// A real Prometheus server on loopback (Debian's `prometheus`), scraping what a test names.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, tempDir, waitFor } from './procs.js';

/** Debian's `prometheus` package puts both on the PATH; suites that need them skip without. */
export const prometheusAvailable =
  spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0 &&
  spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;

/** One sample of an instant query's answer. */
export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export class PrometheusServer {
  output = '';
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    /** Its HTTP API: http://127.0.0.1:PORT. */
    readonly url: string,
  ) {
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((res) => child.on('exit', () => res()));
  }

  /** Scrapes each of `targets` (HOST:PORT serving /metrics) every second, as job "yard". */
  static async start(targets: string[]): Promise<PrometheusServer> {
    const dir = tempDir('yard-prometheus-');
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        'scrape_configs:',
        '  - job_name: yard',
        '    static_configs:',
        `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    const child = spawn(
      'prometheus',
      [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const server = new PrometheusServer(child, `http://127.0.0.1:${port}`);
    await waitFor(
      () => `Prometheus ready on port ${port} (output so far:\n${server.output.slice(-2000)})`,
      async () => (await fetch(`${server.url}/-/ready`)).ok || undefined,
      20_000,
      200,
    );
    return server;
  }

  /** An instant query through the HTTP API: its samples. */
  async query(promql: string): Promise<PromSample[]> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { result: PromSample[] } };
    if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error ?? res.status}`);
    return body.data!.result;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
