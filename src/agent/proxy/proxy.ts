// The agent's data plane (`yard agent --proxy`): applies the routes the controller places on
// this host to real TCP connections, and counts what they carry for the next heartbeat.
import { createHash } from 'node:crypto';
import { YardError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { PlacedRoute, RouteStats } from '../../core/route.js';
import { checkPlacedRoutes, listenAddress } from './check-routes.js';
import { Listener } from './listener.js';
import { RouteRuntime } from './route-runtime.js';

/** Routes named in the info line of a change; the count says the rest. */
const LOGGED_ROUTES = 8;

export interface ProxyOptions {
  log: Logger;
}

export class RoutingProxy {
  private routes = new Map<string, RouteRuntime>();
  /** By listen address (HOST:PORT). */
  private readonly listeners = new Map<string, Listener>();
  /** Removed routes whose connections still drain. */
  private readonly retired = new Set<RouteRuntime>();
  /** Where each placed route listens (HOST:PORT), by route name. */
  private listenKeys = new Map<string, string>();
  /** place() calls run one at a time: binds of two tables must not interleave. */
  private queue: Promise<void> = Promise.resolve();
  /** A digest of the last table placed: an unchanged re-placement logs nothing. */
  private lastDigest = '';
  private closed = false;

  constructor(private readonly opts: ProxyOptions) {}

  /** Applies the complete set of routes for this agent, all or nothing. */
  place(routes: PlacedRoute[]): Promise<void> {
    const run = this.queue.then(() => this.apply(routes));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Counters of every placed route, for the next heartbeat. */
  stats(): RouteStats[] {
    this.forgetIdle();
    const out: RouteStats[] = [];
    for (const [name, route] of this.routes) {
      const listener = this.listeners.get(this.listenKeys.get(name)!);
      const s = route.stats();
      s.listening = listener?.listening === true;
      s.error = s.listening ? '' : listener?.error || 'not listening';
      out.push(s);
    }
    return out;
  }

  /** Stops listening, closes every connection. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    const closing = [...this.listeners.values()].map((l) => l.close());
    this.listeners.clear();
    for (const route of [...this.routes.values(), ...this.retired]) route.destroy();
    this.routes.clear();
    this.retired.clear();
    await Promise.all(closing);
  }

  private async apply(routes: PlacedRoute[]): Promise<void> {
    if (this.closed)
      throw new YardError(
        'UNAVAILABLE',
        'the proxy is shutting down: routes were not placed; the agent places them again when it restarts',
      );
    checkPlacedRoutes(routes);
    const opened = await this.bindNew(routes);
    this.swap(routes, opened);
    this.logChange(routes);
  }

  /** Binds every listen address not already bound; on any failure closes those it opened and throws. */
  private async bindNew(routes: PlacedRoute[]): Promise<Listener[]> {
    const wanted = routes.map((r) => ({ r, ...listenAddress(r) })).filter((w) => !this.listeners.has(w.key));
    const results = await Promise.allSettled(wanted.map((w) => Listener.bind(w.host, w.port, w.r.name, this.opts.log)));
    const opened = results.flatMap((res) => (res.status === 'fulfilled' ? [res.value] : []));
    const failed = results.find((res): res is PromiseRejectedResult => res.status === 'rejected');
    if (failed) {
      await Promise.all(opened.map((l) => l.close()));
      throw failed.reason;
    }
    return opened;
  }

  /** Installs the new tables at once: nothing here can fail, so the change is whole. */
  private swap(routes: PlacedRoute[], opened: Listener[]): void {
    const next = new Map<string, RouteRuntime>();
    for (const placed of routes) {
      const route = this.routes.get(placed.name);
      if (route) route.update(placed);
      next.set(placed.name, route ?? new RouteRuntime(placed, this.opts.log));
    }
    for (const [name, route] of this.routes) {
      if (next.has(name)) continue;
      route.retire();
      this.retired.add(route);
    }
    this.routes = next;
    this.listenKeys = new Map(routes.map((r) => [r.name, listenAddress(r).key]));

    for (const l of opened) this.listeners.set(l.key, l);
    const byKey = new Map(routes.map((r) => [listenAddress(r).key, next.get(r.name)!]));
    for (const [key, listener] of this.listeners) {
      const route = byKey.get(key);
      if (route) {
        listener.route = route;
        continue;
      }
      // Its connections are the routes' to drain, not the listener's: don't wait for them here.
      void listener.close();
      this.listeners.delete(key);
    }
    this.forgetIdle();
  }

  private forgetIdle(): void {
    for (const route of this.retired) if (route.idle) this.retired.delete(route);
  }

  private logChange(routes: PlacedRoute[]): void {
    const digest = createHash('sha256').update(JSON.stringify(routes)).digest('hex');
    if (digest === this.lastDigest) return;
    this.lastDigest = digest;
    const shown = routes.slice(0, LOGGED_ROUTES).map(describe);
    if (routes.length > LOGGED_ROUTES) shown.push(`${routes.length - LOGGED_ROUTES} more`);
    this.opts.log.info(`routes placed: ${shown.join('; ') || 'none'}`, { routes: routes.length });
  }
}

function describe(r: PlacedRoute): string {
  const endpoints = r.endpoints.map(
    (e) => `${e.address || e.key} w${e.weight}${e.draining ? ' draining' : ''}${e.held ? ' held' : ''}`,
  );
  return `${r.name} on ${listenAddress(r).key} → ${endpoints.join(', ') || 'no endpoints'}`;
}
