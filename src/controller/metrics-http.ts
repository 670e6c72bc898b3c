import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Registry as MetricsRegistry } from 'prom-client';
import { formatHostPort, isLoopback, parseHostPort } from '../core/address.js';
import { YardError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { controllerMetrics, type MetricsSources } from './metrics.js';

export interface MetricsListener {
  /** Where it listens, with the real port. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * The controller's metrics (metrics.ts) as `GET /metrics` in Prometheus' text format, on a
 * plain HTTP listener of its own (`--metrics-listen`): Prometheus scrapes over HTTP, and this
 * keeps it off the gRPC port.
 */
export async function serveMetrics(listen: string, sources: MetricsSources, log: Logger): Promise<MetricsListener> {
  const metrics = controllerMetrics(sources);
  try {
    const listener = await listenOn(listen, metrics.registry, log);
    return {
      address: listener.address,
      async close() {
        metrics.close();
        await listener.close();
      },
    };
  } catch (err) {
    metrics.close();
    throw err;
  }
}

async function listenOn(listen: string, metrics: MetricsRegistry, log: Logger): Promise<MetricsListener> {
  const hp = parseHostPort(listen, '--metrics-listen');
  const server = createServer((req, res) => void answer(req, res, metrics, log));
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(hp.port, hp.host, () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  }).catch((err: unknown) => {
    throw new YardError(
      'LISTEN_FAILED',
      `cannot serve metrics on ${listen}: ${errorMessage(err)}; pick another with --metrics-listen`,
      { address: listen },
    );
  });
  const address = formatHostPort({ host: hp.host, port });
  log.info('serving Prometheus metrics', { address: `http://${address}/metrics` });
  // Everything else the controller serves off loopback is TLS; Prometheus scrapes plain HTTP.
  if (!isLoopback(hp.host))
    log.warn('metrics are plain HTTP with no authentication: whoever reaches them reads server names and load', {
      address,
    });
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(req: IncomingMessage, res: ServerResponse, metrics: MetricsRegistry, log: Logger): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (path !== '/metrics') return reply(res, 404, 'not found: metrics are at /metrics\n');
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return reply(res, 405, `${req.method} is not allowed: scrape with GET\n`, { allow: 'GET, HEAD' });
  try {
    const text = await metrics.metrics();
    res.writeHead(200, { 'content-type': metrics.contentType });
    res.end(req.method === 'HEAD' ? undefined : text);
  } catch (err) {
    log.error('could not collect the metrics', { error: errorMessage(err) });
    reply(res, 500, 'could not collect the metrics: see the controller log\n');
  }
}

function reply(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(text);
}
