import { names } from './names.js';
import { AutoscaleMetric } from '../gen/switchyard/v1/deployment.js';
export type { Deployment, DeploymentReplica, DeploymentStatus } from '../gen/switchyard/v1/deployment.js';
export { AutoscaleMetric };

/** Deployment names: a replica is NAME-<version>-<suffix>, which must still be a workload name. */
export const DEPLOYMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$/;

/** The labels every replica carries: which deployment it belongs to, and which version it runs. */
export const DEPLOYMENT_LABEL = 'yard.deployment';
export const VERSION_LABEL = 'yard.version';

/** Bounds: a route reaches at most 64 backends, and one deployment should not hold a fleet hostage. */
export const DEPLOYMENT_LIMITS = { replicas: 1000, routedReplicas: 64, deployments: 256 } as const;

export const DEFAULT_DEPLOYMENT = {
  maxUnavailable: 0,
  maxSurge: 1,
  healthTimeoutMs: 60_000,
  cooldownMs: 60_000,
} as const;

export const autoscaleMetrics = names<AutoscaleMetric>(
  [
    [AutoscaleMetric.AUTOSCALE_METRIC_CPU_PERCENT, 'cpuPercent'],
    [AutoscaleMetric.AUTOSCALE_METRIC_GPU_UTIL_PERCENT, 'gpuUtilPercent'],
    [AutoscaleMetric.AUTOSCALE_METRIC_CONNECTIONS_PER_REPLICA, 'connectionsPerReplica'],
  ],
  'unknown',
);

/** "web-3-a1b2": a replica's workload name. */
export function replicaName(deployment: string, version: number, suffix: string): string {
  return `${deployment}-${version}-${suffix}`;
}
