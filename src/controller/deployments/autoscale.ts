import { AutoscaleMetric, autoscaleMetrics, type Deployment } from '../../core/deployment.js';
import type { KnownWorkload, RouteState } from '../../core/domain.js';
import type { Server } from '../../core/types.js';

/** What the metric is read from: the replicas' hosts, and the route they back. */
export interface MetricSources {
  server(id: string): Server | undefined;
  route?: RouteState;
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);

/** The deployment's metric averaged over its replicas; NaN when nothing reported it yet. */
export function metricValue(d: Deployment, replicas: KnownWorkload[], src: MetricSources): number {
  switch (d.autoscale?.metric) {
    case AutoscaleMetric.AUTOSCALE_METRIC_CPU_PERCENT:
      // The workload's own CPU when its agent samples it, else its host's.
      return mean(
        replicas.flatMap((w) => {
          const pct = w.cpuPct ?? src.server(w.serverId)?.latest?.cpuPct;
          return pct === undefined ? [] : [pct];
        }),
      );
    case AutoscaleMetric.AUTOSCALE_METRIC_GPU_UTIL_PERCENT:
      return mean(
        replicas.flatMap((w) =>
          (src.server(w.serverId)?.latest?.gpus ?? []).flatMap((g) =>
            g.utilizationPct === undefined ? [] : [g.utilizationPct],
          ),
        ),
      );
    case AutoscaleMetric.AUTOSCALE_METRIC_CONNECTIONS_PER_REPLICA: {
      if (!src.route || src.route.statsMs === 0 || replicas.length === 0) return Number.NaN;
      const names = new Set(replicas.map((w) => w.spec.name));
      const active = src.route.endpoints
        .filter((e) => e.endpoint && names.has(e.endpoint.backend))
        .reduce((n, e) => n + (e.stats?.active ?? 0), 0);
      return active / replicas.length;
    }
    default:
      return Number.NaN;
  }
}

/** A decision: the count it wants, and the numbers behind it in words. */
export interface Scaling {
  replicas: number;
  reason: string;
}

/** desired = ceil(current × actual / target), within min and max (as Kubernetes' HPA computes it). */
export function desiredReplicas(d: Deployment, current: number, actual: number): Scaling | undefined {
  const a = d.autoscale;
  if (!a || !Number.isFinite(actual) || current === 0) return undefined;
  const raw = Math.ceil((current * actual) / a.target);
  const replicas = Math.min(a.max, Math.max(a.min, raw));
  const metric = autoscaleMetrics.name(a.metric);
  const clamp = replicas !== raw ? ` (${raw} held within ${a.min}-${a.max})` : '';
  return {
    replicas,
    reason: `${metric} ${actual.toFixed(1)} vs target ${a.target} over ${current} replica(s): ${d.replicas} → ${replicas}${clamp}`,
  };
}
