import { EventEmitter } from 'node:events';
import { YardError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { checkRoute } from '../../core/schema/route.js';
import {
  ROUTE_DEFAULTS,
  ROUTE_LIMITS,
  backendLabel,
  backendsNamed,
  checkSteps,
  promotionStep,
  withWeights,
  type Backend,
  type PlacedRoute,
  type Route,
  type RouteChange,
  type RouteStats,
} from '../../core/route.js';
import type { Server } from '../../core/types.js';
import { routeTable, type KnownWorkload, type RouteState, type RouteTable } from '../../core/domain.js';
import type { Registry } from '../registry.js';
import type { Store } from '../store.js';
import { isLive, type WorkloadTable } from '../workloads.js';
import { commit, type CommitContext, type CommitOptions, type Plan } from './commit.js';
import { changesOf, routeChange, tableBefore } from './history.js';
import { Placement, type ProxyLinks } from './placement.js';
import { runPromotion, type PromoteRouteResponse } from './promotion.js';
import { listed, placedRoute, unheardServers, unresolvedBackends, type Override } from './resolve.js';
import { RouteStatsBook } from './route-stats.js';
import { endpointReports, routeStatus, type EndpointReport, type StatusContext } from './status.js';

export type { EndpointReport };

export interface RouterOptions {
  registry: Registry;
  workloads: WorkloadTable;
  links: ProxyLinks;
  store: Store;
  /** The router records route changes; the audit trail is the caller's (it knows who asked). */
  log: Logger;
  now?: () => number;
}

/** Workloads a migration holds or splits at once: a handful; more is a bug. */
const MAX_OVERRIDES = 1024;

/**
 * The controller's routing tables: stored, resolved to where workloads run, placed on proxy
 * agents (all or none), kept placed as the fleet changes, and shown with the proxies' counters.
 */
export class Router extends EventEmitter<{ route: [RouteState]; removed: [string] }> {
  private readonly overrides = new Map<string, Override>();
  /** Released while running nowhere: held until an instance is live, so clients wait for it. */
  private readonly releasing = new Set<string>();
  private readonly promotions = new Map<string, string>();
  private readonly stats = new RouteStatsBook();
  private readonly placement: Placement;
  private readonly status: StatusContext;
  private readonly committing: CommitContext;
  private readonly now: () => number;
  private readonly closing = new AbortController();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: RouterOptions) {
    super();
    this.setMaxListeners(0);
    this.now = o.now ?? Date.now;
    const placement = new Placement({
      registry: o.registry,
      links: o.links,
      log: o.log,
      routesFor: (id) => this.routesFor(id, this.tables()),
      proxies: () => [
        ...new Set(
          this.tables()
            .map((r) => this.proxyOf(r))
            .filter((id) => id !== undefined),
        ),
      ],
      waitingFor: (id) => this.waitingFor(id),
      serial: (act) => this.serial(act),
      changed: (id) => this.emitOn(id),
    });
    this.placement = placement;
    this.status = {
      registry: o.registry,
      workloads: o.workloads,
      overrides: this.overrides,
      links: o.links,
      stats: this.stats,
      promotions: this.promotions,
      placementError: (id) => placement.error(id),
    };
    this.committing = {
      store: o.store,
      fleet: o,
      placement,
      stats: this.stats,
      log: o.log,
      now: this.now,
      proxyOf: (r) => this.proxyOf(r),
      routesFor: (id, tables) => this.routesFor(id, tables),
      statusOf: (r) => this.statusOf(r),
      changed: (st) => this.emit('route', st),
      removed: (service) => this.emit('removed', service),
    };
    o.registry.on('server', this.onServer);
    o.workloads.on('workload', this.onWorkload);
    o.workloads.on('removed', this.onRemoved);
    this.placement.soon();
  }

  /** Another controller changed this route (a shared store): proxies here get it, watchers see it. */
  heard(service: string): void {
    this.placement.soon();
    const r = this.o.store.route(service);
    if (r) this.emit('route', this.statusOf(r));
    else this.emit('removed', service);
  }

  list(): RouteState[] {
    return this.tables().map((r) => this.statusOf(r));
  }

  get(service: string): RouteState {
    return this.statusOf(this.table(service));
  }

  async apply(routes: Route[], who: string, dryRun = false): Promise<{ routes: RouteState[]; changes: RouteChange[] }> {
    if (routes.length === 0)
      throw new YardError('INVALID_ARGUMENT', 'no route given: a route file holds one or more routes');
    if (routes.length > ROUTE_LIMITS.routes)
      throw new YardError('INVALID_ARGUMENT', `${routes.length} routes given; at most ${ROUTE_LIMITS.routes} at once`);
    const checked = routes.map((r) => routeTable(checkRoute(r)));
    const seen = new Set<string>();
    for (const r of checked) {
      if (seen.has(r.name))
        throw new YardError('ALREADY_EXISTS', `duplicate service ${r.name}: each service appears once in an apply`, {
          route: r.name,
        });
      seen.add(r.name);
    }
    return this.serial(() =>
      this.commitPlans(
        checked.map((r) => ({ service: r.name, after: r })),
        who,
        'apply',
        '',
        { dryRun, checkWorkloads: true },
      ),
    );
  }

  delete(service: string, who: string): Promise<RouteChange> {
    return this.serial(async () => {
      const { changes } = await this.commitPlans([{ service }], who, 'delete', '');
      return changes[0]!;
    });
  }

  setWeights(
    service: string,
    weights: Record<string, number>,
    who: string,
  ): Promise<{ route: RouteState; change: RouteChange }> {
    const note = Object.entries(weights)
      .map(([v, w]) => `${v}=${w}`)
      .join(' ');
    return this.serial(async () =>
      this.one(service, routeTable(withWeights(this.table(service), weights)), who, 'weight', note),
    );
  }

  rollback(service: string, who: string): Promise<{ route: RouteState; change: RouteChange }> {
    return this.serial(async () => {
      const before = tableBefore(this.o.store, service);
      return this.one(service, before, who, 'rollback', `back to revision ${before.revision}`);
    });
  }

  drain(
    service: string,
    backend: string,
    deadlineMs: number,
    who: string,
  ): Promise<{ route: RouteState; change: RouteChange }> {
    return this.serial(async () => {
      const current = this.table(service);
      const after = structuredClone(current);
      const named = backendsNamed(after, backend);
      if (named.length === 0) {
        throw new YardError(
          'NOT_FOUND',
          `route ${service} has no backend "${backend}": name one by version, workload or address (${current.backends.map(backendLabel).join(', ')})`,
          { route: service, backend },
        );
      }
      for (const b of named) Object.assign(b, { drain: true, weight: 0, drainTimeoutMs: deadlineMs || 0 });
      if (!after.backends.some((b) => b.weight > 0 && !b.drain)) {
        throw new YardError(
          'FAILED_PRECONDITION',
          `draining ${backend} would leave ${service} with no backend taking traffic: give another backend a weight first`,
          { route: service, backend },
        );
      }
      return this.one(
        service,
        after,
        who,
        'drain',
        `${backend} drained${deadlineMs ? `; open connections may last ${deadlineMs} ms` : ''}`,
      );
    });
  }

  async promote(
    service: string,
    version: string,
    opts: { steps?: number[]; intervalMs?: number },
    who: string,
    onStep?: (p: PromoteRouteResponse) => void,
  ): Promise<PromoteRouteResponse> {
    const base = this.table(service);
    const steps = checkSteps(opts.steps ?? []);
    promotionStep(base, version, steps[0]!);
    const running = this.promotions.get(service);
    if (running)
      throw new YardError(
        'FAILED_PRECONDITION',
        `${service} is already being promoted (${running}): wait for it to finish`,
        { route: service },
      );
    this.promotions.set(service, `promoting ${version}`);
    try {
      return await runPromotion({
        service,
        version,
        base,
        steps,
        intervalMs: opts.intervalMs || ROUTE_DEFAULTS.promoteIntervalMs,
        signal: this.closing.signal,
        onStep,
        change: (table, action, note) =>
          this.serial(() => this.commitPlans([{ service, after: routeTable(table) }], who, action, note)).then(
            () => undefined,
          ),
        status: () => this.get(service),
        watch: (seen) => {
          const mine = (s: RouteState) => s.route.name === service && seen(s);
          this.on('route', mine);
          return () => this.off('route', mine);
        },
        show: (text) => this.show(service, text),
      });
    } finally {
      this.promotions.delete(service);
      if (this.o.store.route(service)) this.emit('route', this.get(service));
    }
  }

  /**
   * The route's backends are now `backends` (a deployment's replicas): committed as any change
   * is, so its proxy gets it and the history records it; nothing when they already are.
   */
  followReplicas(service: string, backends: Backend[], who: string, note: string): Promise<void> {
    return this.serial(async () => {
      const table = this.table(service);
      if (JSON.stringify(table.backends) === JSON.stringify(backends)) return;
      await this.one(service, routeTable(checkRoute({ ...table, backends })), who, 'deployment', note);
    });
  }

  changes(service?: string, limit?: number): RouteChange[] {
    return changesOf(this.o.store, service, limit);
  }

  /** A proxy's counters from its heartbeat; routes it does not serve are ignored. */
  report(serverId: string, stats: RouteStats[]): void {
    const at = this.now();
    for (const s of stats) {
      const route = this.o.store.route(s.name);
      if (!route || this.proxyOf(route) !== serverId) continue;
      this.stats.merge(serverId, s, at);
      this.emit('route', this.statusOf(route));
    }
  }

  backs(workload: string): boolean {
    return this.tables().some((r) => r.backends.some((b) => b.workload === workload));
  }

  /** Proxies stop sending the workload new connections; new clients wait for it. */
  async hold(workload: string): Promise<void> {
    this.override(workload, { kind: 'hold' });
    await this.placeBacking(workload);
  }

  /** Ends a hold or split: the workload's endpoints are wherever it is live now (held until it is live somewhere). */
  async release(workload: string): Promise<void> {
    this.releasing.delete(workload);
    if (this.o.workloads.instances(workload).some(isLive)) this.overrides.delete(workload);
    else if (this.overrides.has(workload)) {
      this.overrides.set(workload, { kind: 'hold' });
      this.releasing.add(workload);
    }
    await this.placeBacking(workload);
  }

  /** The workload's traffic shared between two servers: `targetShare` percent to the target. */
  async split(
    workload: string,
    s: { sourceServerId: string; targetServerId: string; targetShare: number; sourceDraining: boolean },
  ): Promise<void> {
    if (!Number.isFinite(s.targetShare) || s.targetShare < 0 || s.targetShare > 100) {
      throw new YardError(
        'INVALID_ARGUMENT',
        `target share of ${workload} must be from 0 to 100, not ${s.targetShare}`,
        { workload },
      );
    }
    this.override(workload, { kind: 'split', ...s });
    await this.placeBacking(workload);
  }

  endpointStats(workload: string, serverId: string): EndpointReport[] {
    return endpointReports(this.status, this.tables(), workload, serverId);
  }

  close(): void {
    this.closing.abort();
    this.placement.close();
    this.o.registry.off('server', this.onServer);
    this.o.workloads.off('workload', this.onWorkload);
    this.o.workloads.off('removed', this.onRemoved);
  }

  private readonly onServer = (s: Server) => {
    if (s.capabilities?.proxy) this.placement.soon([s.id]);
    // Its state or its advertised address may change where routes send traffic.
    this.placement.soon();
  };

  private readonly onWorkload = (w: KnownWorkload) => {
    const name = w.spec.name;
    if (this.releasing.has(name) && isLive(w)) {
      this.releasing.delete(name);
      this.overrides.delete(name);
    }
    this.placement.soon(this.proxiesBacking(name));
  };

  private readonly onRemoved = (ref: { name: string }) => this.placement.soon(this.proxiesBacking(ref.name));

  /** Runs routing changes one at a time, in the order asked. */
  private serial<T>(act: () => Promise<T>): Promise<T> {
    const run = this.chain.then(act);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private tables(): RouteTable[] {
    return this.o.store.routes();
  }

  private table(service: string): RouteTable {
    const r = this.o.store.route(service);
    if (!r) throw new YardError('NOT_FOUND', `no route "${service}": \`yard routes\` lists them`, { route: service });
    return r;
  }

  private proxyOf(r: RouteTable): string | undefined {
    return this.o.registry.get(r.listen.server)?.server.id;
  }

  private proxiesBacking(workload: string): string[] {
    const ids = this.tables()
      .filter((r) => r.backends.some((b) => b.workload === workload))
      .map((r) => this.proxyOf(r));
    return [...new Set(ids.filter((id) => id !== undefined))];
  }

  /** Workload backends of the proxy's routes that are unresolved because some agents have not reported since the restart. */
  private waitingFor(serverId: string): string {
    const unresolved = this.tables()
      .filter((r) => this.proxyOf(r) === serverId)
      .flatMap((r) => unresolvedBackends(r, this.status));
    if (unresolved.length === 0) return '';
    return `workload ${[...new Set(unresolved)].join(', ')} not known to run anywhere yet: waiting for ${listed(unheardServers(this.o.registry))} to report since the controller started`;
  }

  private routesFor(serverId: string, tables: RouteTable[]): PlacedRoute[] {
    return tables.filter((r) => this.proxyOf(r) === serverId).map((r) => placedRoute(r, this.status));
  }

  private statusOf(route: RouteTable): RouteState {
    return routeStatus(this.status, route);
  }

  private emitOn(serverId: string): void {
    for (const r of this.tables()) if (this.proxyOf(r) === serverId) this.emit('route', this.statusOf(r));
  }

  private show(service: string, text: string): void {
    this.promotions.set(service, text);
    const r = this.o.store.route(service);
    if (r) this.emit('route', this.statusOf(r));
  }

  private override(workload: string, o: Override): void {
    if (!this.overrides.has(workload) && this.overrides.size >= MAX_OVERRIDES) {
      throw new YardError(
        'RESOURCE_EXHAUSTED',
        `${MAX_OVERRIDES} workloads already have their traffic held or split by migrations`,
        { workload },
      );
    }
    this.releasing.delete(workload);
    this.overrides.set(workload, o);
  }

  /**
   * Places every proxy serving a route of the workload and waits for their answers. A proxy
   * that is away gets it when it reconnects (it serves nothing new from us meanwhile).
   */
  private placeBacking(workload: string): Promise<void> {
    return this.serial(async () => {
      const tables = this.tables();
      for (const id of this.proxiesBacking(workload)) {
        if (!this.o.links.connected(id)) {
          this.o.log.warn('proxy away: it gets the change when it reconnects', {
            server: this.placement.nameOf(id),
            workload,
          });
          continue;
        }
        try {
          await this.placement.place(id, this.routesFor(id, tables));
        } catch (err) {
          this.placement.forget(id);
          this.placement.soon([id]);
          throw err;
        }
        this.emitOn(id);
      }
    });
  }

  /** One service's change, with the change it recorded (or, when the table already said so, the one it would have). */
  private async one(
    service: string,
    after: RouteTable,
    who: string,
    action: string,
    note: string,
  ): Promise<{ route: RouteState; change: RouteChange }> {
    const before = this.o.store.route(service);
    const { routes, changes } = await this.commitPlans([{ service, after }], who, action, note);
    return {
      route: routes[0]!,
      change:
        changes[0] ??
        routeChange(this.now(), who, service, action, before, before, 'unchanged: the table already said so'),
    };
  }

  private commitPlans(plans: Plan[], who: string, action: string, note: string, opts?: CommitOptions) {
    return commit(this.committing, plans, who, action, note, opts);
  }
}
