// Prometheus exporters for the scrape tests: Debian's real node_exporter on a loopback port, and
// GPU exporter pages recorded from real exporters (test/fixtures/exporters/README.md) served from
// loopback, since there is no GPU here.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { freePort, waitFor } from './procs.js';

export const EXPORTER_FIXTURES = resolve(import.meta.dirname, '../fixtures/exporters');

/** The Debian package's binary; suites that need it skip without it. */
export const nodeExporterAvailable =
  spawnSync('prometheus-node-exporter', ['--version'], { stdio: 'ignore' }).status === 0;

export class NodeExporter {
  output = '';
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    /** Its page: http://127.0.0.1:PORT/metrics. */
    readonly url: string,
  ) {
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((res) => child.on('exit', () => res()));
  }

  static async start(): Promise<NodeExporter> {
    const port = await freePort();
    const child = spawn('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exporter = new NodeExporter(child, `http://127.0.0.1:${port}/metrics`);
    await waitFor(
      () => `node_exporter on port ${port} (output so far:\n${exporter.output.slice(-2000)})`,
      async () => (await fetch(exporter.url)).ok || undefined,
      15_000,
      100,
    );
    return exporter;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
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
