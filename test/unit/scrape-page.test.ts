import { createServer, type RequestListener, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchPage } from '../../src/controller/scrape/page.js';
import { freePort } from '../helpers/procs.js';

const servers: Server[] = [];

/** A loopback HTTP server that answers as `handle` says: the exporters that misbehave. */
async function serve(handle: RequestListener): Promise<string> {
  const server = createServer(handle);
  servers.push(server);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`;
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((res) => s.close(res));
  }
});

describe('fetching an exporter page', () => {
  it('returns the page', async () => {
    const url = await serve((_req, res) => res.end('node_load1 0.5\n'));
    expect(await fetchPage(url)).toBe('node_load1 0.5\n');
  });

  it('cuts off a page over the size limit, however it streams, and says so', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    const url = await serve((_req, res) => {
      // An endless page: it stops only when the reader goes away (bounded here too).
      const more = () => {
        while (sent < 100 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
        if (sent < 100 * 1024 * 1024) res.once('drain', more);
        else res.end();
      };
      more();
    });
    await expect(fetchPage(url, { timeoutMs: 5000, maxBytes: 1024 * 1024 })).rejects.toThrow(
      `${url}: the page is over 1048576 bytes; is this an exporter's /metrics page?`,
    );
    expect(sent).toBeLessThan(100 * 1024 * 1024);
  });

  it('gives up on an exporter that does not answer within the timeout', async () => {
    const url = await serve(() => undefined);
    const started = Date.now();
    await expect(fetchPage(url, { timeoutMs: 300, maxBytes: 1024 })).rejects.toThrow(
      `${url}: no answer within 300 ms; check that the exporter runs there`,
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('gives up on a page that stops half-way', async () => {
    const url = await serve((_req, res) => res.write('node_load1 0.5\n'));
    await expect(fetchPage(url, { timeoutMs: 300, maxBytes: 1024 })).rejects.toThrow(
      `${url}: the page did not finish within 300 ms`,
    );
  });

  it("names the HTTP status of a page that isn't there", async () => {
    const url = await serve((_req, res) => {
      res.statusCode = 404;
      res.end('404 page not found');
    });
    await expect(fetchPage(url)).rejects.toThrow(
      `${url}: HTTP 404 Not Found; check the URL's path (node_exporter serves /metrics)`,
    );
  });

  it('says when nothing listens there', async () => {
    const url = `http://127.0.0.1:${await freePort()}/metrics`;
    await expect(fetchPage(url)).rejects.toThrow(
      new RegExp(
        `^${url.replace(/[.]/g, '\\.')}: .*ECONNREFUSED.*; check that the exporter runs there and the URL is right$`,
      ),
    );
  });
});
