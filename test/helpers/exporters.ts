// Prometheus exporters for the scrape tests: Debian's real node_exporter on a loopback port, and
// GPU exporter pages recorded from real exporters (test/fixtures/exporters/README.md) served from
// loopback, since there is no GPU here.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { HttpProc } from './http-proc.js';
import { freePort } from './procs.js';

export const EXPORTER_FIXTURES = resolve(import.meta.dirname, '../fixtures/exporters');

/** The Debian package's binary; suites that need it skip without it. */
export const nodeExporterAvailable =
  spawnSync('prometheus-node-exporter', ['--version'], { stdio: 'ignore' }).status === 0;

export class NodeExporter {
  private constructor(
    private readonly proc: HttpProc,
    /** Its page: http://127.0.0.1:PORT/metrics. */
    readonly url: string,
  ) {}

  get output(): string {
    return this.proc.output;
  }

  static async start(): Promise<NodeExporter> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/metrics`;
    const proc = await HttpProc.start(
      `node_exporter on port ${port}`,
      'prometheus-node-exporter',
      [`--web.listen-address=127.0.0.1:${port}`],
      url,
      { timeoutMs: 15_000, everyMs: 100 },
    );
    return new NodeExporter(proc, url);
  }

  stop(): Promise<void> {
    return this.proc.stop();
  }
}

/** A recorded exporter page, served as it was recorded (not a live exporter). */
export class RecordedExporter {
  private constructor(
    private readonly server: Server,
    /** http://127.0.0.1:PORT/metrics */
    readonly url: string,
  ) {}

  static async serve(fixture: string): Promise<RecordedExporter> {
    const page = readFileSync(resolve(EXPORTER_FIXTURES, fixture));
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(page);
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const { port } = server.address() as { port: number };
    return new RecordedExporter(server, `http://127.0.0.1:${port}/metrics`);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((res) => this.server.close(res));
  }
}
