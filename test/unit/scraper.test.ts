// The poller against loopback pages: the recorded node_exporter page, and a GPU exporter URL that
// fails. A failing GPU exporter degrades the host, as a failing nvidia-smi degrades an agent's.
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../../src/controller/registry.js';
import { Scraper } from '../../src/controller/scrape/scraper.js';
import { silentLogger } from '../../src/core/log.js';
import { ServerState } from '../../src/core/types.js';
import { RecordedExporter } from '../helpers/exporters.js';
import { waitFor } from '../helpers/procs.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function notFound(): Promise<string> {
  const server: Server = createServer((_req, res) => {
    res.statusCode = 404;
    res.end('404 page not found\n');
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  closers.push(() => new Promise((res) => server.close(res)));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`;
}

describe('the scraper', () => {
  it('brings a host in from its page, degraded while its GPU exporter fails, and says why', async () => {
    const node = await RecordedExporter.serve('node-exporter-1.5.0-debian.metrics');
    closers.push(() => node.close());
    const gpu = await notFound();
    const registry = new Registry({ heartbeatTtlMs: 3000, graceMs: 30_000 });
    const scraper = new Scraper({ registry, log: silentLogger });
    closers.push(async () => scraper.stop());
    scraper.set({ name: 'edge-1', url: node.url, gpuUrl: gpu, intervalMs: 1000, addedMs: 0, addedBy: 'test' });
    scraper.start();
    const record = await waitFor('edge-1 to answer', () => {
      const r = registry.get('edge-1');
      return r?.server.latest ? r : undefined;
    });
    expect(record.server.state).toBe(ServerState.SERVER_STATE_DEGRADED);
    expect(record.server.latest?.gpuStatus).toMatchObject({
      state: 'failing',
      message: `${gpu}: HTTP 404 Not Found; check the URL's path (node_exporter serves /metrics)`,
    });
    expect(scraper.status('edge-1')?.lastError).toBe(record.server.latest?.gpuStatus?.message);
    expect(record.server.hostname).toMatch(/\S/);
  });
});
