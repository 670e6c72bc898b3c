import { knownWorkload, routeState, type KnownWorkload, type RouteState } from '../core/domain.js';
import { errorMessage } from '../core/errors.js';
import type { FleetChange, FleetRoute, FleetServer } from '../core/fleet.js';
import { silentLogger, type Logger } from '../core/log.js';
import { RouteBook } from '../core/route-book.js';
import { ROUTE_LIMITS, type RouteStatus } from '../core/route.js';
import { ServerSeries } from '../core/series.js';
import { ServerState, type HostSample, type Server } from '../core/types.js';
import type { Migration, Workload } from '../core/workload.js';
import { fillFromHistory } from '../core/series-history.js';
import type { ServerHistory, WatchFleetResponse } from '../gen/switchyard/v1/control.js';
import { byName } from '../controller/grpc/control.js';

/** Migrations an attached dashboard keeps (live ones and recent history), like the controller. */
export const MIGRATIONS_KEPT = 200;

interface MirroredServer {
  server: Server;
  series: ServerSeries;
}

const workloadKey = (serverId: string, name: string) => `${serverId}/${name}`;

/** What the stream said of a route while a ListRoutes answer was awaited: its latest status, or that it went. */
type RouteNews = RouteState | 'removed';

/**
 * The fleet as a controller's WatchFleet stream describes it: servers with their recent
 * history, workloads, migrations, and the routes (a ListRoutes answer, then the stream's
 * route events). Bounded: rings per server and endpoint, a capped migration list.
 * No I/O; RemoteFleet feeds it.
 */
export class FleetMirror {
  private readonly servers = new Map<string, MirroredServer>();
  private readonly workloadsByKey = new Map<string, KnownWorkload>();
  private readonly migrationsById = new Map<string, Migration>();
  private sortedServers?: FleetServer[];
  private sortedWorkloads?: KnownWorkload[];
  private sortedMigrations?: Migration[];
  private readonly book = new RouteBook();
  /** Route events held back while a route list is awaited, the latest per route; undefined when none is. */
  private routeNews?: Map<string, RouteNews>;
  /** The controller's recent readings per server, from the event just before a snapshot. */
  private history?: Map<string, ServerHistory>;
  /** The parts of a snapshot received so far (a large fleet's comes in parts of 1000 servers). */
  private snapshotParts: Server[] = [];
  /** Route lists asked for and not answered yet (a quick reconnect asks again before the first answer). */
  private listsAwaited = 0;

  constructor(
    private readonly migrationsKept = MIGRATIONS_KEPT,
    private readonly log: Logger = silentLogger,
  ) {}

  list(): readonly FleetServer[] {
    this.sortedServers ??= [...this.servers.values()].sort((a, b) => byName(a.server, b.server));
    return this.sortedServers;
  }

  get(idOrName: string): FleetServer | undefined {
    const byId = this.servers.get(idOrName);
    if (byId) return byId;
    for (const s of this.servers.values()) if (s.server.name === idOrName) return s;
    return undefined;
  }

  workloads(): readonly KnownWorkload[] {
    this.sortedWorkloads ??= [...this.workloadsByKey.values()].sort(
      (a, b) => a.spec.name.localeCompare(b.spec.name) || a.serverId.localeCompare(b.serverId),
    );
    return this.sortedWorkloads;
  }

  migrations(): readonly Migration[] {
    this.sortedMigrations ??= [...this.migrationsById.values()].sort((a, b) => b.createdMs - a.createdMs);
    return this.sortedMigrations;
  }

  routes(): readonly FleetRoute[] {
    return this.book.list();
  }

  /**
   * A ListRoutes call is on its way: route events wait until its answer is in, so the list
   * never overwrites what the stream said after it was made.
   */
  awaitRouteList(): void {
    this.listsAwaited++;
    this.routeNews ??= new Map();
  }

  /**
   * A ListRoutes answer (undefined: the call failed): replaces the routes; once no other list
   * is awaited, the held events apply.
   */
  applyRouteList(statuses: readonly RouteStatus[] | undefined): FleetChange[] {
    this.listsAwaited = Math.max(0, this.listsAwaited - 1);
    const changed = new Set(statuses ? this.book.replace(this.parsedAll(statuses, routeState)) : []);
    const news = this.listsAwaited === 0 ? this.routeNews : undefined;
    if (news) {
      this.routeNews = undefined;
      for (const [name, item] of news)
        if (item === 'removed' ? this.book.remove(name) : this.book.put(item)) changed.add(name);
    }
    return [...changed].map((name) => ({ kind: 'route', name }));
  }

  /** Applies one event of the stream; returns what changed. */
  apply(res: WatchFleetResponse): FleetChange[] {
    const e = res.event;
    switch (e?.$case) {
      case 'history':
        this.history ??= new Map();
        for (const h of e.value.servers) this.history.set(h.serverId, h);
        return [];
      case 'snapshot': {
        this.snapshotParts.push(...e.value.servers);
        if (e.value.nextPageToken) return [];
        const servers = this.snapshotParts;
        this.snapshotParts = [];
        return this.replace(servers);
      }
      case 'server':
        return [this.putServer(e.value)];
      case 'sample':
        if (!e.value.sample) return [];
        for (const earlier of e.value.earlier) this.putSample(e.value.serverId, earlier);
        return this.putSample(e.value.serverId, e.value.sample);
      case 'workload':
        return this.putWorkload(e.value);
      case 'workloadRemoved':
        return this.removeWorkload(e.value.serverId, e.value.name);
      case 'migration':
        return [this.putMigration(e.value)];
      case 'route':
        return this.putRoute(e.value);
      case 'routeRemoved':
        return this.routeEvent(e.value, 'removed');
      case 'audit':
        return [{ kind: 'audit', entry: e.value }];
      default:
        return [];
    }
  }

  /**
   * A fresh snapshot replaces what we knew: servers it lacks are dropped, and workloads and
   * migrations are cleared (the stream sends them all again right after it). Servers still
   * there keep their history, and take what the controller saw since from the history event
   * sent just before.
   */
  private replace(servers: Server[]): FleetChange[] {
    const changes: FleetChange[] = [];
    const present = new Set(servers.map((s) => s.id));
    for (const id of this.servers.keys()) {
      if (present.has(id)) continue;
      this.servers.delete(id);
      changes.push({ kind: 'server', id });
    }
    for (const s of servers) changes.push(this.putServer(s, this.history?.get(s.id)));
    this.history = undefined;
    const names = new Set([...this.workloadsByKey.values()].map((w) => w.spec.name));
    this.workloadsByKey.clear();
    this.sortedWorkloads = undefined;
    for (const name of names) changes.push({ kind: 'workload', name });
    for (const id of this.migrationsById.keys()) changes.push({ kind: 'migration', id });
    this.migrationsById.clear();
    this.sortedMigrations = undefined;
    this.sortedServers = undefined;
    return changes;
  }

  /**
   * The stream is gone: every host's state becomes unknown (its last sample and last-seen time
   * stay, to be shown aged). The next snapshot says what is true again.
   */
  loseTouch(): FleetChange[] {
    const now = Date.now();
    // A snapshot cut off mid-way is not the fleet: the next stream sends a whole one.
    this.snapshotParts = [];
    this.history = undefined;
    const changes: FleetChange[] = [];
    for (const mirrored of this.servers.values()) {
      if (mirrored.server.state === ServerState.SERVER_STATE_UNKNOWN) continue;
      mirrored.server = { ...mirrored.server, state: ServerState.SERVER_STATE_UNKNOWN, stateSinceMs: now };
      changes.push({ kind: 'server', id: mirrored.server.id });
    }
    if (changes.length > 0) this.sortedServers = undefined;
    return changes;
  }

  private putServer(server: Server, history?: ServerHistory): FleetChange {
    const known = this.servers.get(server.id);
    const latest = server.latest ?? known?.server.latest;
    const mirrored: MirroredServer = { server: { ...server, latest }, series: known?.series ?? new ServerSeries() };
    if (history) fillFromHistory(mirrored.series, history);
    // The sample a server arrives with is a point of its history too (once: a reconnect resends it).
    if (latest && latest.timestampMs > (mirrored.series.timestamps.last() ?? 0)) mirrored.series.record(latest);
    this.servers.set(server.id, mirrored);
    this.sortedServers = undefined;
    return { kind: 'server', id: server.id };
  }

  private putSample(serverId: string, sample: HostSample): FleetChange[] {
    const known = this.servers.get(serverId);
    // A sample of a server we have not heard of yet: its server event (or the next snapshot) comes first.
    if (!known) return [];
    known.series.record(sample);
    known.server.latest = sample;
    return [{ kind: 'sample', id: serverId }];
  }

  private putWorkload(sent: Workload): FleetChange[] {
    const w = this.parsed(sent, knownWorkload);
    if (!w) return [];
    this.workloadsByKey.set(workloadKey(w.serverId, w.spec.name), w);
    this.sortedWorkloads = undefined;
    return [{ kind: 'workload', name: w.spec.name }];
  }

  private removeWorkload(serverId: string, name: string): FleetChange[] {
    if (!this.workloadsByKey.delete(workloadKey(serverId, name))) return [];
    this.sortedWorkloads = undefined;
    return [{ kind: 'workload', name }];
  }

  private routeEvent(name: string, item: RouteNews): FleetChange[] {
    if (this.routeNews) {
      if (this.routeNews.has(name) || this.routeNews.size < ROUTE_LIMITS.routes) this.routeNews.set(name, item);
      return [];
    }
    if (item === 'removed') return this.book.remove(name) ? [{ kind: 'route', name }] : [];
    const news = this.book.put(item);
    return news ? [{ kind: 'route', name, counters: news === 'counters' }] : [];
  }

  /** A route from an action's answer: kept unless the stream already sent a newer copy. */
  learnRoute(status: RouteStatus): FleetChange[] {
    return this.putRoute(status);
  }

  private putRoute(sent: RouteStatus): FleetChange[] {
    const status = this.parsed(sent, routeState);
    return status ? this.routeEvent(status.route.name, status) : [];
  }

  /**
   * A wire message as its domain type; one that lacks a required part is dropped, with the
   * reason logged: one bad message must not blank or crash the view.
   */
  private parsed<Wire, Domain>(sent: Wire, parse: (w: Wire) => Domain): Domain | undefined {
    try {
      return parse(sent);
    } catch (err) {
      this.log.warn('dropped a message of the fleet stream', { reason: errorMessage(err) });
      return undefined;
    }
  }

  private parsedAll<Wire, Domain>(sent: readonly Wire[], parse: (w: Wire) => Domain): Domain[] {
    return sent.flatMap((w) => this.parsed(w, parse) ?? []);
  }

  /** A migration from an action's answer: kept unless the stream already sent a newer copy. */
  learnMigration(m: Migration): FleetChange | undefined {
    const known = this.migrationsById.get(m.id);
    return known && known.updatedMs >= m.updatedMs ? undefined : this.putMigration(m);
  }

  /** Adds or updates a migration; past the cap, the oldest are dropped. */
  private putMigration(m: Migration): FleetChange {
    const isNew = !this.migrationsById.has(m.id);
    this.migrationsById.set(m.id, m);
    this.sortedMigrations = undefined;
    if (isNew && this.migrationsById.size > this.migrationsKept) {
      for (const old of this.migrations().slice(this.migrationsKept)) this.migrationsById.delete(old.id);
      this.sortedMigrations = undefined;
    }
    return { kind: 'migration', id: m.id };
  }
}
