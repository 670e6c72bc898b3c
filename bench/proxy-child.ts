// The yard proxy of the proxy benchmark, in its own process: the agent's Proxy with one route
// placed on it, 127.0.0.1:<free port> → the backend, as a controller would place it.
//   node dist/bench/proxy-child.js 127.0.0.1:BACKEND_PORT
// prints "proxy ready pid=<pid> port=<port>" once the route listens and its backend is healthy;
// SIGTERM closes the proxy and exits.
import { RoutingProxy } from '../src/agent/proxy/proxy.js';
import { parseHostPort } from '../src/core/address.js';
import { createLogger } from '../src/core/log.js';
import { BackendHealth, HealthCheckKind, RoutePolicy, type PlacedRoute } from '../src/gen/switchyard/v1/route.js';
import { freePort, waitUntil } from './lib.js';

const backend = process.argv[2] ?? '';
try {
  parseHostPort(backend, 'backend');
} catch (err) {
  process.stderr.write(`proxy-child: ${(err as Error).message}\n`);
  process.exit(2);
}

const ROUTE = 'bench';

function route(port: number): PlacedRoute {
  return {
    name: ROUTE,
    listenHost: '127.0.0.1',
    listenPort: port,
    policy: RoutePolicy.ROUTE_POLICY_WEIGHTED,
    healthCheck: {
      kind: HealthCheckKind.HEALTH_CHECK_KIND_TCP,
      intervalMs: 2000,
      timeoutMs: 1000,
      unhealthyAfter: 3,
      healthyAfter: 2,
      path: '/',
    },
    endpoints: [
      {
        key: 'backend',
        address: backend,
        weight: 100,
        version: '',
        backend,
        draining: false,
        drainTimeoutMs: 0,
        held: false,
        detail: '',
      },
    ],
    holdTimeoutMs: 30_000,
    revision: 1,
  };
}

const proxy = new RoutingProxy({ log: createLogger('proxy', (l) => process.stderr.write(l)) });
let closing = false;
const stop = (code: number) => {
  if (closing) return;
  closing = true;
  // Exit even if close() hangs on a connection the bench left open.
  setTimeout(() => process.exit(code), 3000).unref();
  void proxy.close().finally(() => process.exit(code));
};
process.once('SIGTERM', () => stop(0));
process.once('SIGINT', () => stop(0));
// Never outlives the bench by long, even if nobody kills it.
setTimeout(() => stop(0), 10 * 60_000).unref();

try {
  const port = await freePort();
  await proxy.place([route(port)]);
  await waitUntil(
    `route ${ROUTE} on 127.0.0.1:${port} to listen with ${backend} healthy`,
    () => {
      const s = proxy.stats().find((r) => r.name === ROUTE);
      if (s?.error) throw new Error(s.error);
      return s?.listening && s.endpoints[0]?.health === BackendHealth.BACKEND_HEALTH_HEALTHY ? true : undefined;
    },
    15_000,
    50,
  );
  process.stdout.write(`proxy ready pid=${process.pid} port=${port}\n`);
} catch (err) {
  process.stderr.write(`proxy-child: ${(err as Error).message}; stats: ${JSON.stringify(proxy.stats())}\n`);
  stop(1);
}
