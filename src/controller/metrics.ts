import {
  Counter,
  Gauge,
  Histogram,
  Registry as MetricsRegistry,
  collectDefaultMetrics,
  type LabelValues,
} from 'prom-client';
import type { DeploymentStatus } from '../core/deployment.js';
import type { RouteState } from '../core/domain.js';
import { SERVER_STATE_NAMES, ServerState, stateName, type GpuSample, type HostSample } from '../core/types.js';
import { migrationDone, migrationPhases, type Migration } from '../core/workload.js';
import type { Registry } from './registry.js';
import type { Router } from './router/router.js';

/** What the controller's metrics are read from, at scrape time (migrations as they end). */
export interface MetricsSources {
  registry: Pick<Registry, 'list' | 'heartbeatsReceived'>;
  router: Pick<Router, 'list'>;
  /** The coordinator's 'migration' event: each change of a migration. */
  coordinator: {
    on(event: 'migration', listener: (m: Migration) => void): unknown;
    off(event: 'migration', listener: (m: Migration) => void): unknown;
  };
  /** Open WatchFleet streams. */
  watchers: () => number;
  /** Each deployment's desired, running and healthy replicas. */
  deployments: { list(): Pick<DeploymentStatus, 'deployment' | 'desired' | 'running' | 'healthy'>[] };
}

export interface ControllerMetrics {
  readonly registry: MetricsRegistry;
  /** Stops listening to the coordinator. */
  close(): void;
}

/** prom-client's default process metrics that are gauges ending in _total. */
const MISNAMED_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

const OUTCOMES = ['committed', 'rolled_back', 'failed'] as const;

/** Seconds: a freeze takes a moment, a checkpoint of a few GiB minutes, a slow link an hour. */
const MIGRATION_BUCKETS = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * Migration ids already counted: a finished migration can be announced again (heard from a
 * shared store), and must count once. More than the store's history of finished migrations.
 */
const COUNTED_IDS = 1024;

/** Hosts whose latest sample is current: an agent that is away keeps its last sample, which would read as fresh. */
const REPORTING = new Set<ServerState>([ServerState.SERVER_STATE_ONLINE, ServerState.SERVER_STATE_DEGRADED]);

type Put<L extends string> = (labels: LabelValues<L>, value: number) => void;
type Source<L extends string> = (put: Put<L>) => void;

/**
 * The controller's Prometheus metrics, in a registry of their own. Gauges and the proxies'
 * counters are read from the registry and router when scraped (nothing runs per heartbeat);
 * migrations are counted as they end. Labels name servers, GPUs, routes, backends, states and
 * outcomes: never a workload run or a migration id, so the series stay as many as the fleet.
 */
export function controllerMetrics(src: MetricsSources): ControllerMetrics {
  const registry = new MetricsRegistry();
  // The event-loop lag is sampled every 100 ms, not prom-client's 10: an idle controller then spends
  // about 0.3 % of a core on these, not 0.7 % (each sample still measures the lag to the µs).
  collectDefaultMetrics({ register: registry, prefix: 'yard_', eventLoopMonitoringPrecision: 100 });
  // Gauges named like counters, which `promtool check metrics` rejects; the same counts by type remain (yard_nodejs_active_handles etc.).
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(`yard_${name}`);
  serverMetrics(registry, src.registry);
  routeMetrics(registry, src.router);
  counted(registry, 'yard_heartbeats_received_total', 'Heartbeats taken from connected agents.', [], (put) =>
    put({}, src.registry.heartbeatsReceived),
  );
  gauge(registry, 'yard_watchers', 'Dashboards and CLIs watching the fleet (open WatchFleet streams).', [], (put) =>
    put({}, src.watchers()),
  );
  gauge(
    registry,
    'yard_deployment_replicas',
    'Replicas of each deployment: desired, running, and healthy (running, and passing the checks of its route).',
    ['deployment', 'state'],
    (put) => {
      for (const s of src.deployments.list()) {
        const deployment = s.deployment?.name ?? '';
        put({ deployment, state: 'desired' }, s.desired);
        put({ deployment, state: 'running' }, s.running);
        put({ deployment, state: 'healthy' }, s.healthy);
      }
    },
  );
  const onMigration = migrationCounter(registry);
  src.coordinator.on('migration', onMigration);
  return { registry, close: () => src.coordinator.off('migration', onMigration) };
}

/** A gauge set afresh at each scrape: a series `fill` no longer puts is gone. */
function gauge<L extends string>(
  registry: MetricsRegistry,
  name: string,
  help: string,
  labelNames: readonly L[],
  fill: Source<L>,
): void {
  new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      fill((labels, v) => this.set(labels, v));
    },
  });
}

/** A counter kept by someone else (a proxy, the registry): shown as it stands at the scrape. */
function counted<L extends string>(
  registry: MetricsRegistry,
  name: string,
  help: string,
  labelNames: readonly L[],
  fill: Source<L>,
): void {
  new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      fill((labels, v) => this.inc(labels, v));
    },
  });
}

/** Per host and per GPU, for hosts that report now; servers by state, and when each was last heard from. */
function serverMetrics(registry: MetricsRegistry, servers: MetricsSources['registry']): void {
  const reporting = () => servers.list().filter((r) => REPORTING.has(r.server.state) && r.server.latest);
  const perServer = (name: string, help: string, read: (s: HostSample) => number) =>
    gauge(registry, name, help, ['server'], (put) => {
      for (const r of reporting()) put({ server: r.server.name }, read(r.server.latest!));
    });
  const perGpu = (name: string, help: string, read: (g: GpuSample) => number | undefined) =>
    gauge(registry, name, help, ['server', 'gpu'], (put) => {
      for (const r of reporting())
        for (const g of r.server.latest!.gpus) {
          const v = read(g);
          if (v !== undefined) put({ server: r.server.name, gpu: String(g.index) }, v);
        }
    });

  perServer('yard_server_cpu_percent', 'CPU use of the host, all cores, in percent.', (s) => s.cpuPct);
  perServer('yard_server_memory_used_bytes', 'Memory in use on the host.', (s) => s.memoryUsedBytes);
  perServer('yard_server_memory_total_bytes', 'Memory of the host.', (s) => s.memoryTotalBytes);
  perGpu('yard_gpu_utilization_percent', 'GPU utilisation in percent.', (g) => g.utilizationPct);
  perGpu('yard_gpu_memory_used_bytes', 'GPU memory in use.', (g) => mib(g.memoryUsedMib));
  perGpu('yard_gpu_memory_total_bytes', 'GPU memory in all.', (g) => mib(g.memoryTotalMib));
  perGpu('yard_gpu_temperature_celsius', 'GPU temperature.', (g) => g.temperatureC);
  perGpu('yard_gpu_power_watts', 'GPU power draw.', (g) => g.powerW);
  gauge(
    registry,
    'yard_server_last_seen_timestamp_seconds',
    'When the server was last heard from.',
    ['server'],
    (put) => {
      for (const r of servers.list())
        if (r.server.lastSeenMs > 0) put({ server: r.server.name }, r.server.lastSeenMs / 1000);
    },
  );
  gauge(registry, 'yard_servers', 'Servers the controller knows, by state.', ['state'], (put) => {
    const by = new Map<string, number>(SERVER_STATE_NAMES.map((state) => [state, 0]));
    for (const r of servers.list()) {
      const state = stateName(r.server.state);
      by.set(state, by.get(state)! + 1);
    }
    for (const [state, n] of by) put({ state }, n);
  });
}

/** The proxies' counters, per route and backend. */
function routeMetrics(registry: MetricsRegistry, router: MetricsSources['router']): void {
  const perBackend =
    (read: (s: BackendTotals) => number): Source<'route' | 'backend'> =>
    (put) => {
      for (const [route, backends] of backendTotals(router.list()))
        for (const [backend, t] of backends) put({ route, backend }, read(t));
    };
  const labels = ['route', 'backend'] as const;
  gauge(
    registry,
    'yard_route_backend_active_connections',
    "Connections open through the route's proxy to the backend.",
    labels,
    perBackend((t) => t.active),
  );
  counted(
    registry,
    'yard_route_backend_connections_total',
    "Connections the route's proxy made to the backend (restarts from 0 when the proxy or the backend's host changes).",
    labels,
    perBackend((t) => t.total),
  );
  counted(
    registry,
    'yard_route_backend_connect_errors_total',
    "Connections the route's proxy failed to open to the backend.",
    labels,
    perBackend((t) => t.connectErrors),
  );
  counted(
    registry,
    'yard_route_backend_in_bytes_total',
    'Bytes in: from clients to the backend, through the route.',
    labels,
    perBackend((t) => t.bytesIn),
  );
  counted(
    registry,
    'yard_route_backend_out_bytes_total',
    'Bytes out: from the backend to clients, through the route.',
    labels,
    perBackend((t) => t.bytesOut),
  );
}

const mib = (v: number | undefined) => (v === undefined ? undefined : v * 2 ** 20);

interface BackendTotals {
  active: number;
  total: number;
  connectErrors: number;
  bytesIn: number;
  bytesOut: number;
}

/**
 * The proxies' counters by route and backend: a backend's endpoints (a workload mid-migration
 * has two) add up; an endpoint its proxy has not reported on yet is left out.
 */
function backendTotals(routes: RouteState[]): Map<string, Map<string, BackendTotals>> {
  const out = new Map<string, Map<string, BackendTotals>>();
  for (const r of routes) {
    const backends = new Map<string, BackendTotals>();
    for (const e of r.endpoints) {
      if (!e.stats) continue;
      const t = backends.get(e.endpoint.backend) ?? { active: 0, total: 0, connectErrors: 0, bytesIn: 0, bytesOut: 0 };
      t.active += e.stats.active;
      t.total += e.stats.total;
      t.connectErrors += e.stats.connectErrors;
      t.bytesIn += e.stats.bytesIn;
      t.bytesOut += e.stats.bytesOut;
      backends.set(e.endpoint.backend, t);
    }
    if (backends.size) out.set(r.route.name, backends);
  }
  return out;
}

/** Counts each migration once, when it ends, by outcome, with how long it took. */
function migrationCounter(registry: MetricsRegistry): (m: Migration) => void {
  const finished = new Counter({
    name: 'yard_migrations_finished_total',
    help: 'Migrations that ended, by outcome.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'yard_migration_duration_seconds',
    help: 'How long migrations took, from planned to their end, by outcome.',
    labelNames: ['outcome'],
    buckets: MIGRATION_BUCKETS,
    registers: [registry],
  });
  for (const outcome of OUTCOMES) {
    finished.inc({ outcome }, 0);
    duration.zero({ outcome });
  }
  const seen = new Set<string>();
  return (m) => {
    if (!migrationDone(m.phase) || seen.has(m.id)) return;
    seen.add(m.id);
    if (seen.size > COUNTED_IDS) seen.delete(seen.values().next().value!);
    const outcome = migrationPhases.name(m.phase);
    finished.inc({ outcome });
    duration.observe({ outcome }, Math.max(0, (m.finishedMs || m.updatedMs) - m.createdMs) / 1000);
  };
}
