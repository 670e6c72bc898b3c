// A real Prometheus server on loopback (Debian's `prometheus`), scraping what a test names.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpProc } from './http-proc.js';
import { freePort, tempDir } from './procs.js';

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
  private constructor(
    private readonly proc: HttpProc,
    /** Its HTTP API: http://127.0.0.1:PORT. */
    readonly url: string,
  ) {}

  get output(): string {
    return this.proc.output;
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
    const url = `http://127.0.0.1:${port}`;
    const proc = await HttpProc.start(
      `Prometheus ready on port ${port}`,
      'prometheus',
      [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      `${url}/-/ready`,
      { timeoutMs: 20_000, everyMs: 200 },
    );
    return new PrometheusServer(proc, url);
  }

  /** An instant query through the HTTP API: its samples. */
  async query(promql: string): Promise<PromSample[]> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { result: PromSample[] } };
    if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error ?? res.status}`);
    return body.data!.result;
  }

  stop(): Promise<void> {
    return this.proc.stop();
  }
}
