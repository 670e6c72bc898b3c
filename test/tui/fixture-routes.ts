// The routing table of the fixture fleet, in memory: statuses shaped like the controller's
// Router sends them, fed through the same RouteBook the dashboard's sources use, and route
// actions that apply the same weight math (src/core/route.ts) and record every call.
import { routeState, type RouteState, type RouteTable } from '../../src/core/domain.js';
import { YardError } from '../../src/core/errors.js';
import type {
  DeploymentActions,
  FleetActions,
  FleetRoute,
  MigrationActions,
  PromoteOptions,
  RouteActions,
  WorkloadActions,
  ServerActions,
} from '../../src/core/fleet.js';
import { RouteBook } from '../../src/core/route-book.js';
import {
  BackendHealth,
  RoutePolicy,
  RouteProtocol,
  backendsNamed,
  promotionStep,
  withWeights,
  type Backend,
  type EndpointStatus,
  type Route,
} from '../../src/core/route.js';

/** One call of a route action, as the dashboard made it. */
export interface RouteCall {
  action: 'setRouteWeights' | 'promoteRoute' | 'rollbackRoute' | 'drainBackend';
  args: unknown[];
}

/** Where each workload runs in the sample fleet (fleet-fixture.ts HOSTS), for endpoint keys. */
const RUNS_ON: Record<string, string> = { 'api-blue': 'srv-a100', 'api-green': 'srv-t4' };
const ADDRESS_OF: Record<string, string> = { 'srv-a100': '10.0.4.17', 'srv-t4': '10.0.4.19' };

const backend = (b: Partial<Backend>): Backend => ({
  workload: '',
  address: '',
  port: 0,
  weight: 0,
  version: '',
  drain: false,
  drainTimeoutMs: 0,
  ...b,
});

function route(name: string, server: string, port: number, policy: RoutePolicy, backends: Backend[]): RouteTable {
  return {
    name,
    listen: { server, port, host: '0.0.0.0' },
    protocol: RouteProtocol.ROUTE_PROTOCOL_TCP,
    policy,
    backends,
    holdTimeoutMs: 30_000,
    drainTimeoutMs: 30_000,
    revision: 3,
    updatedMs: 0,
    updatedBy: 'alice',
  };
}

/** The sample table: blue/green web on the A100 host, a database behind two addresses, and a metrics route whose proxy is gone. */
export function sampleRoutes(): RouteTable[] {
  return [
    route('web', 'srv-a100', 8080, RoutePolicy.ROUTE_POLICY_WEIGHTED, [
      backend({ workload: 'api-blue', port: 9000, weight: 80, version: 'blue' }),
      backend({ workload: 'api-green', port: 9000, weight: 20, version: 'green' }),
    ]),
    route('db', 'srv-a100', 5432, RoutePolicy.ROUTE_POLICY_LEAST_CONNECTIONS, [
      backend({ address: '10.0.4.20:5432', weight: 100, version: 'v1' }),
      backend({ address: '10.0.4.21:5432', weight: 0, version: 'v2', drain: true }),
    ]),
    route('metrics-collector-for-the-whole-east-region', 'srv-web', 9100, RoutePolicy.ROUTE_POLICY_WEIGHTED, [
      backend({ workload: 'vector-db', port: 9100, weight: 100, version: 'v1' }),
    ]),
  ];
}

/** Health and load of each backend in the sample: green is failing its checks now and then. */
const HEALTH: Record<string, BackendHealth> = {
  'api-blue': BackendHealth.BACKEND_HEALTH_HEALTHY,
  'api-green': BackendHealth.BACKEND_HEALTH_DEGRADED,
  '10.0.4.20:5432': BackendHealth.BACKEND_HEALTH_HEALTHY,
  '10.0.4.21:5432': BackendHealth.BACKEND_HEALTH_DRAINING,
};

function endpointOf(r: Route, b: Backend, t: number, reported: boolean): EndpointStatus {
  const serverId = b.workload ? (RUNS_ON[b.workload] ?? '-') : '';
  const key = b.workload ? `${b.workload}@${serverId}` : b.address;
  const address = b.workload ? (ADDRESS_OF[serverId] ? `${ADDRESS_OF[serverId]}:${b.port}` : '') : b.address;
  const active = Math.round((b.weight / 10) * (1 + Math.sin(t / 5)));
  return {
    endpoint: {
      key,
      address,
      weight: b.weight,
      version: b.version,
      backend: b.workload || b.address,
      draining: b.drain,
      drainTimeoutMs: b.drainTimeoutMs || r.drainTimeoutMs,
      held: false,
      detail: address ? '' : `workload ${b.workload} is not running`,
    },
    stats: reported
      ? {
          key,
          active,
          total: 1200 + t * 7,
          bytesIn: t * 1000,
          bytesOut: t * 9000,
          connectErrors: 0,
          health: HEALTH[b.workload || b.address] ?? BackendHealth.BACKEND_HEALTH_HEALTHY,
          healthDetail: '',
          checksPassing: true,
        }
      : undefined,
    bytesPerSec: reported ? b.weight * 15_000 * (1.2 + Math.sin(t / 4 + b.weight)) : 0,
  };
}

/** A route's status as the Router reports it after its proxy's report number `t` (a second apart). */
export function statusOf(r: Route, t: number, baseMs: number): RouteState {
  const reported = r.listen?.server !== 'srv-web';
  const endpoints = r.backends.map((b) => endpointOf(r, b, t, reported));
  const sum = (f: (e: EndpointStatus) => number) => endpoints.reduce((n, e) => n + f(e), 0);
  return routeState({
    route: r,
    serverId: r.listen?.server ?? '',
    endpoints,
    listening: reported,
    error: reported ? '' : 'proxy cpu-web-02 is disconnected',
    statsMs: reported ? baseMs + t * 1000 : 0,
    heldTotal: 0,
    heldMaxMs: 0,
    refused: r.name === 'db' ? 2 : 0,
    active: sum((e) => e.stats?.active ?? 0),
    total: sum((e) => e.stats?.total ?? 0),
    bytesPerSec: sum((e) => e.bytesPerSec),
    promotion: '',
  });
}

/**
 * The fixture fleet's routes and route actions. Every action is recorded in `calls`; what
 * it answers can be replaced per test (vi.spyOn on the fleet's actions).
 */
export class FixtureRoutes implements RouteActions {
  readonly calls: RouteCall[] = [];
  private readonly book = new RouteBook();
  private readonly tables = new Map<string, { route: Route; before?: Route }>();
  private readonly promotions = new Map<string, string>();
  private t = 0;

  constructor(
    private readonly changed: (name: string) => void,
    private readonly baseMs = Date.now(),
  ) {}

  list(): readonly FleetRoute[] {
    return this.book.list();
  }

  /** Adds the routes, then `reports` proxy reports of each, so sparklines have history. */
  load(routes: Route[], reports: number): void {
    for (const r of routes) this.tables.set(r.name, { route: r });
    for (let i = 0; i < reports; i++) this.report();
  }

  /** One report of every route's proxy. */
  report(): void {
    this.t++;
    for (const { route: r } of this.tables.values()) this.put(this.statusOf(r));
  }

  /** Says a promotion is under way on `service`, as the Router's status does ("" when it ended). */
  promoting(service: string, text: string): void {
    this.promotions.set(service, text);
    this.put(this.statusOf(this.table(service).route));
  }

  remove(name: string): void {
    this.tables.delete(name);
    if (this.book.remove(name)) this.changed(name);
  }

  async setRouteWeights(service: string, weights: Record<string, number>): Promise<RouteState> {
    this.calls.push({ action: 'setRouteWeights', args: [service, weights] });
    return this.change(service, (r) => withWeights(r, weights));
  }

  async promoteRoute(service: string, version: string, opts?: PromoteOptions): Promise<string> {
    this.calls.push({ action: 'promoteRoute', args: [service, version, opts] });
    this.change(service, (r) => promotionStep(r, version, 100));
    return `${version} takes all the traffic of ${service}`;
  }

  async rollbackRoute(service: string): Promise<RouteState> {
    this.calls.push({ action: 'rollbackRoute', args: [service] });
    const before = this.table(service).before;
    if (!before)
      throw new YardError(
        'FAILED_PRECONDITION',
        `${service} has no earlier table: \`yard route delete ${service}\` removes it`,
      );
    return this.change(service, () => before);
  }

  async drainBackend(service: string, backendName: string, deadlineMs?: number): Promise<RouteState> {
    this.calls.push({ action: 'drainBackend', args: [service, backendName, deadlineMs] });
    return this.change(service, (r) => {
      const next = structuredClone(r);
      for (const b of backendsNamed(next, backendName)) Object.assign(b, { drain: true, weight: 0 });
      return next;
    });
  }

  private table(service: string): { route: Route; before?: Route } {
    const table = this.tables.get(service);
    if (!table) throw new YardError('NOT_FOUND', `no route "${service}": \`yard routes\` lists them`);
    return table;
  }

  private change(service: string, next: (r: Route) => Route): RouteState {
    const table = this.table(service);
    const route = { ...next(table.route), revision: table.route.revision + 1 };
    this.tables.set(service, { route, before: table.route });
    const status = this.statusOf(route);
    this.put(status);
    return status;
  }

  private statusOf(r: Route): RouteState {
    return { ...statusOf(r, this.t, this.baseMs), promotion: this.promotions.get(r.name) ?? '' };
  }

  private put(status: RouteState): void {
    if (this.book.put(status)) this.changed(status.route.name);
  }
}

/** Migration, route, workload and server actions as one FleetActions, each call passed to its owner. */
export function fleetActions(
  migrations: MigrationActions,
  routes: RouteActions,
  workloads: WorkloadActions,
  servers: ServerActions,
  deployments: DeploymentActions,
): FleetActions {
  return {
    scaleDeployment: (...args) => deployments.scaleDeployment(...args),
    restartDeployment: (name) => deployments.restartDeployment(name),
    cordonServer: (...args) => servers.cordonServer(...args),
    drainServer: (server) => servers.drainServer(server),
    stopWorkload: (name) => workloads.stopWorkload(name),
    restartWorkload: (name) => workloads.restartWorkload(name),
    removeWorkload: (name) => workloads.removeWorkload(name),
    followLogs: (name, sink) => workloads.followLogs(name, sink),
    planMigration: (...args) => migrations.planMigration(...args),
    startMigration: (...args) => migrations.startMigration(...args),
    cancelMigration: (id) => migrations.cancelMigration(id),
    setRouteWeights: (...args) => routes.setRouteWeights(...args),
    promoteRoute: (...args) => routes.promoteRoute(...args),
    rollbackRoute: (service) => routes.rollbackRoute(service),
    drainBackend: (...args) => routes.drainBackend(...args),
  };
}
