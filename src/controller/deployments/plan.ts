import type { Deployment } from '../../core/deployment.js';
import type { KnownWorkload } from '../../core/domain.js';
import { versionOf } from './replicas.js';

/** What one pass sees of a deployment's replicas. */
export interface PassView {
  d: Deployment;
  /** Live on hosts that are up, less those being stopped. */
  live: KnownWorkload[];
  /** Started by the controller and not yet reported by their agents, of the current version. */
  pending: number;
  /** Lost with their hosts and waiting out the rescheduling delay: not replaced yet. */
  waitingLost: number;
  /** Replicas asked to move off their host (reschedule): replaced like an older version. */
  evicted: ReadonlySet<string>;
  healthy: (w: KnownWorkload) => boolean;
  /** When a replica started (or was asked to). */
  startedMs: (w: KnownWorkload) => number;
  nowMs: number;
  /** The rollout of this version was halted (its gate failed, and no revert). */
  halted: boolean;
}

/** What the pass does. */
export interface PassPlan {
  start: number;
  /** Replicas to take out of the route and stop, with why. */
  stop: { w: KnownWorkload; why: string }[];
  /** New replicas past their health timeout while older ones still run: the gate failed. */
  gateFailed: KnownWorkload[];
}

/**
 * The rolling rules, as Kubernetes' Deployment keeps them: at most desired + maxSurge replicas,
 * at least desired - maxUnavailable healthy ones; an older replica stops only once enough new
 * ones are healthy; more than desired of the current version stop, unhealthy and newest first.
 */
export function planPass(v: PassView): PassPlan {
  const { d } = v;
  const update = d.update!;
  const isNew = (w: KnownWorkload) => versionOf(w) === d.version && !v.evicted.has(w.spec.name);
  const current = v.live.filter(isNew);
  const old = v.live.filter((w) => !isNew(w));
  const desired = d.replicas;
  const maxTotal = desired + update.maxSurge;
  const minAvailable = Math.max(0, desired - update.maxUnavailable);
  const total = v.live.length + v.pending;
  const healthyAll = v.live.filter(v.healthy).length;

  const gateFailed =
    old.length > 0 ? current.filter((w) => !v.healthy(w) && v.nowMs - v.startedMs(w) > update.healthTimeoutMs) : [];
  if (v.halted || gateFailed.length > 0) return { start: 0, stop: [], gateFailed };

  const stop: PassPlan['stop'] = [];
  const unhealthyOld = old.filter((w) => !v.healthy(w));
  const healthyOld = old.filter(v.healthy).sort(byVersionThenName);
  for (const w of unhealthyOld) stop.push({ w, why: `${w.spec.name} (v${versionOf(w)}) is not healthy` });
  const room = Math.max(0, healthyAll - minAvailable, total - unhealthyOld.length - maxTotal);
  for (const w of healthyOld.slice(0, room))
    stop.push({
      w,
      why: v.evicted.has(w.spec.name)
        ? `${w.spec.name} moves off its host`
        : `${w.spec.name} (v${versionOf(w)}) replaced by v${d.version}`,
    });
  const excess = current.length + v.pending - desired;
  if (excess > 0)
    for (const w of [...current].sort(unhealthyNewestFirst(v)).slice(0, excess))
      stop.push({ w, why: `${w.spec.name}: more than the ${desired} wanted` });

  const start = Math.max(
    0,
    Math.min(desired - current.length - v.pending - v.waitingLost, maxTotal - (total - stop.length)),
  );
  return { start, stop, gateFailed };
}

function byVersionThenName(a: KnownWorkload, b: KnownWorkload): number {
  return versionOf(a) - versionOf(b) || a.spec.name.localeCompare(b.spec.name);
}

const unhealthyNewestFirst = (v: PassView) => (a: KnownWorkload, b: KnownWorkload) =>
  Number(v.healthy(a)) - Number(v.healthy(b)) || v.startedMs(b) - v.startedMs(a);
