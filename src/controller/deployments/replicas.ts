import { DEPLOYMENT_LABEL, VERSION_LABEL, type Deployment, type DeploymentReplica } from '../../core/deployment.js';
import type { KnownWorkload } from '../../core/domain.js';
import { isLive } from '../../core/format/words.js';
import { ServerState } from '../../core/types.js';
import { WorkloadState, type WorkloadSpec } from '../../core/workload.js';
import type { Registry } from '../registry.js';

/** The deployment a workload is a replica of ('' for none), by the label every replica carries. */
export const deploymentOf = (w: KnownWorkload): string => w.spec.labels[DEPLOYMENT_LABEL] ?? '';

/** The version a replica runs (0 when its label is missing or garbled). */
export function versionOf(w: KnownWorkload): number {
  const v = Number(w.spec.labels[VERSION_LABEL]);
  return Number.isSafeInteger(v) && v > 0 ? v : 0;
}

/** The spec a replica of `version` runs, named `name`: the template, labelled with its deployment and version. */
export function replicaSpec(d: Deployment, template: WorkloadSpec, version: number, name: string): WorkloadSpec {
  return {
    ...template,
    name,
    labels: { ...template.labels, [DEPLOYMENT_LABEL]: d.name, [VERSION_LABEL]: String(version) },
  };
}

/** Every workload that is a replica, by deployment: one pass over the table. */
export function byDeployment(all: KnownWorkload[]): Map<string, KnownWorkload[]> {
  const out = new Map<string, KnownWorkload[]>();
  for (const w of all) {
    const d = deploymentOf(w);
    if (!d) continue;
    const list = out.get(d);
    if (list) list.push(w);
    else out.set(d, [w]);
  }
  return out;
}

/** Replicas as the reconciler sees them: where their host is, and whether they count. */
export interface ReplicaSets {
  /** Live, on a host that is not down: what counts. */
  live: KnownWorkload[];
  /** On a host that is down past its grace (or forgotten): to be replaced elsewhere. */
  lost: KnownWorkload[];
  /** Ended on a host that is up (exited, checkpointed): to be removed. */
  ended: KnownWorkload[];
}

/**
 * A replica that is live on two hosts at once (a migration between them) counts once, as the
 * instance that runs; the other is left to the migration, never stopped as one too many.
 */
export function sortReplicas(replicas: KnownWorkload[], registry: Registry): ReplicaSets {
  const sets: ReplicaSets = { live: [], lost: [], ended: [] };
  const live = new Map<string, KnownWorkload>();
  for (const w of replicas) {
    const state = registry.get(w.serverId)?.server.state;
    if (state === undefined || state === ServerState.SERVER_STATE_DOWN) sets.lost.push(w);
    else if (isLive(w)) {
      const other = live.get(w.spec.name);
      if (!other || (!isRunning(other) && isRunning(w))) live.set(w.spec.name, w);
    } else sets.ended.push(w);
  }
  const names = new Set(live.keys());
  sets.live = [...live.values()];
  // An instance that ended where another of its name lives is the migration's to clean up.
  sets.ended = sets.ended.filter((w) => !names.has(w.spec.name));
  sets.lost = sets.lost.filter((w) => !names.has(w.spec.name));
  return sets;
}

export function replicaRow(w: KnownWorkload, healthy: boolean): DeploymentReplica {
  return { workload: w.spec.name, serverId: w.serverId, version: versionOf(w), state: w.state, healthy };
}

export const isRunning = (w: KnownWorkload): boolean => w.state === WorkloadState.WORKLOAD_STATE_RUNNING;
