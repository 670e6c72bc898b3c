// Real backends, real clients and a real Proxy on 127.0.0.1 for the proxy-*.test.ts suites.
// Everything made here is registered and torn down by cleanup().
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../src/core/log.js';
import {
  type BackendHealth,
  HealthCheckKind,
  RoutePolicy,
  type Endpoint,
  type EndpointStats,
  type PlacedRoute,
  type RouteStats,
} from '../../src/core/route.js';
import { RoutingProxy } from '../../src/agent/proxy/proxy.js';
import { freePort, waitFor } from '../helpers/procs.js';

export { freePort };

const cleanups: (() => Promise<void> | void)[] = [];

export async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn();
}

/** Polls quickly, for at most 2.5 s: every test here is meant to finish well within 3 s. */
export function eventually<T>(what: string, probe: () => T | undefined | false, timeoutMs = 2500): Promise<T> {
  return waitFor(what, () => probe() || undefined, timeoutMs, 10) as Promise<T>;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A logger that keeps its lines, to assert what an operator would read. */
export function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string) => void lines.push(`${level} ${msg}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export function startProxy(log: Logger = recordingLog()): RoutingProxy {
  const proxy = new RoutingProxy({ log });
  cleanups.push(() => proxy.close());
  return proxy;
}

/**
 * A backend server. By default it greets every connection with its name and a newline, echoes
 * what it reads, and ends when the client ends.
 */
export class Backend {
  readonly sockets = new Set<Socket>();
  private server?: Server;

  private constructor(
    readonly name: string,
    public port: number,
    private readonly handle: (sock: Socket, b: Backend) => void,
  ) {}

  static async start(
    name: string,
    opts: { port?: number; handle?: (sock: Socket, b: Backend) => void } = {},
  ): Promise<Backend> {
    const b = new Backend(name, opts.port ?? 0, opts.handle ?? greetAndEcho);
    cleanups.push(() => b.stop());
    await b.listen();
    return b;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Listens (again) on its port. */
  async listen(): Promise<void> {
    const server = createServer({ allowHalfOpen: true }, (sock) => {
      this.sockets.add(sock);
      sock.on('error', () => undefined);
      sock.on('close', () => this.sockets.delete(sock));
      this.handle(sock, this);
    });
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(this.port, '127.0.0.1', () => res());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Stops listening and drops every connection, as a crash would. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((res) => server.close(() => res()));
  }
}

function greetAndEcho(sock: Socket, b: Backend): void {
  sock.write(`${b.name}\n`);
  sock.pipe(sock);
}

/** A client connection that keeps everything it receives. */
export class Client {
  received = '';
  readonly sock: Socket;
  private readonly closing: Promise<void>;
  private ended = false;

  constructor(port: number) {
    this.sock = connect({ host: '127.0.0.1', port });
    this.sock.setEncoding('utf8');
    this.sock.on('data', (d: string) => (this.received += d));
    this.sock.on('error', () => undefined);
    this.sock.on('end', () => (this.ended = true));
    this.closing = new Promise((res) => this.sock.once('close', () => res()));
    cleanups.push(() => void this.sock.destroy());
  }

  /** The backend's greeting: its name. */
  async greeting(): Promise<string> {
    await this.receive('\n');
    return this.received.slice(0, this.received.indexOf('\n'));
  }

  /** Waits (at most 2.5 s) until `text` has arrived. */
  receive(text: string, timeoutMs = 2500): Promise<void> {
    if (this.received.includes(text)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => done(new Error(`timed out waiting for "${text}"; got "${this.received}"`)),
        timeoutMs,
      );
      const check = () => this.received.includes(text) && done();
      const done = (err?: Error) => {
        clearTimeout(timer);
        this.sock.off('data', check);
        this.sock.off('close', check);
        if (err) reject(err);
        else resolve();
      };
      this.sock.on('data', check);
      this.sock.once('close', () =>
        done(
          this.received.includes(text)
            ? undefined
            : new Error(`closed before "${text}" arrived; got "${this.received}"`),
        ),
      );
    });
  }

  /** Resolves when the connection has closed; fails after 2.5 s. */
  closed(timeoutMs = 2500): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>(
      (_, rej) => (timer = setTimeout(() => rej(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs)),
    );
    return Promise.race([this.closing, late]).finally(() => clearTimeout(timer));
  }

  get gotEnd(): boolean {
    return this.ended;
  }
}

/** Connects, reads the greeting and closes: which backend took it. */
export async function oneShot(port: number): Promise<string> {
  const c = new Client(port);
  const name = await c.greeting();
  c.sock.end();
  await c.closed();
  return name;
}

/** An endpoint keyed by its address, weight 100 unless told. */
export function endpoint(address: string, patch: Partial<Endpoint> = {}): Endpoint {
  return {
    key: address,
    address,
    weight: 100,
    version: '',
    backend: address,
    draining: false,
    drainTimeoutMs: 0,
    held: false,
    detail: '',
    ...patch,
  };
}

/** A route on 127.0.0.1:port with quick health checks (100 ms, 2 fails, 2 passes). */
export function route(
  name: string,
  port: number,
  endpoints: Endpoint[],
  patch: Partial<PlacedRoute> = {},
): PlacedRoute {
  return {
    name,
    listenHost: '127.0.0.1',
    listenPort: port,
    policy: RoutePolicy.ROUTE_POLICY_WEIGHTED,
    healthCheck: {
      kind: HealthCheckKind.HEALTH_CHECK_KIND_TCP,
      intervalMs: 100,
      timeoutMs: 300,
      unhealthyAfter: 2,
      healthyAfter: 2,
      path: '/',
    },
    endpoints,
    holdTimeoutMs: 0,
    revision: 1,
    ...patch,
  };
}

export function routeStats(proxy: RoutingProxy, name: string): RouteStats {
  const s = proxy.stats().find((r) => r.name === name);
  if (!s) throw new Error(`no stats for route ${name}`);
  return s;
}

export function endpointStats(proxy: RoutingProxy, name: string, key: string): EndpointStats {
  const s = routeStats(proxy, name).endpoints.find((e) => e.key === key);
  if (!s) throw new Error(`no stats for endpoint ${key} of ${name}`);
  return s;
}

/** Waits until the endpoint reports `health`. */
export function healthOf(
  proxy: RoutingProxy,
  name: string,
  key: string,
  health: BackendHealth,
): Promise<EndpointStats> {
  return eventually(`${key} of ${name} to be ${health}`, () => {
    const s = endpointStats(proxy, name, key);
    return s.health === health && s;
  });
}
