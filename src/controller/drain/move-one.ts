import { setTimeout as delay } from 'node:timers/promises';
import { DrainOutcome, type DrainItem } from '../../core/drain.js';
import { errorMessage } from '../../core/errors.js';
import { MigrationPhase, migrationDone, migrationPhases, type Migration } from '../../core/workload.js';
import type { Coordinator } from '../migration/coordinator.js';

/** A deployment's replicas: rescheduled by the deployment (started elsewhere, then stopped here) rather than migrated. */
export interface ReplicaHooks {
  owns(workloadId: string): boolean;
  reschedule(workloadId: string, reason: string): Promise<void>;
}

export interface MoveParts {
  coordinator: Coordinator;
  replicas?: ReplicaHooks;
  serverName: (id: string) => string;
}

export interface MoveJob {
  workload: string;
  drainedName: string;
  requestedBy: string;
  deadlineMs: number;
  /** Aborted at the deadline: a move still in flight is cancelled (and rolls back). */
  signal: AbortSignal;
  /** Told each change of the item (its migration id once started). */
  update: (item: Partial<DrainItem>) => void;
}

/** While no server can take it, how often to look again before the deadline. */
const RETRY_TARGET_MS = 500;

/**
 * Moves one workload off a draining host: a deployment's replica is rescheduled by its
 * deployment; anything else migrates by its own strategy (checkpoint for stateful workloads,
 * restart for the rest) to the best-scored schedulable server. Waits for a target until the
 * deadline. Returns how it ended; the workload is never stopped without a copy running elsewhere.
 */
export async function moveOne(parts: MoveParts, job: MoveJob): Promise<Partial<DrainItem>> {
  if (parts.replicas?.owns(job.workload)) {
    job.update({ how: 'reschedule', outcome: DrainOutcome.DRAIN_OUTCOME_MOVING });
    try {
      await parts.replicas.reschedule(job.workload, `drain of ${job.drainedName}`);
      return { outcome: DrainOutcome.DRAIN_OUTCOME_MOVED };
    } catch (err) {
      return { outcome: DrainOutcome.DRAIN_OUTCOME_FAILED, message: errorMessage(err) };
    }
  }
  for (let attempt = 0; !job.signal.aborted; attempt++) {
    let reasons: string;
    try {
      const plan = parts.coordinator.plan(job.workload);
      const best = plan.targets.find((t) => t.eligible);
      if (best) {
        job.update({ how: 'migrate', outcome: DrainOutcome.DRAIN_OUTCOME_MOVING, message: '' });
        const m = await parts.coordinator.start(job.workload, best.serverId, undefined, job.requestedBy);
        job.update({ migrationId: m.id, targetServerId: m.targetServerId });
        const last = await untilDone(parts.coordinator, m, job.signal, (phase) => job.update({ phase }));
        return { ...ended(last, parts.serverName, job.signal.aborted), phase: '' };
      }
      reasons = plan.targets.map((t) => `${t.name}: ${t.reasons.join(', ')}`).join('; ') || 'no other server';
    } catch (err) {
      return { outcome: DrainOutcome.DRAIN_OUTCOME_FAILED, message: errorMessage(err) };
    }
    const wait = Math.min(RETRY_TARGET_MS, job.deadlineMs - Date.now());
    if (attempt === 0) job.update({ message: `waiting for a target (${reasons})` });
    await delay(Math.max(0, wait), undefined, { signal: job.signal }).catch(() => undefined);
  }
  return {
    outcome: DrainOutcome.DRAIN_OUTCOME_LEFT,
    message: `the deadline passed before any server could take it; it still runs on ${job.drainedName}`,
  };
}

/** The migration's end, telling each phase on the way: cancelled (so it rolls back) if the deadline passes first. */
function untilDone(
  coordinator: Coordinator,
  first: Migration,
  signal: AbortSignal,
  onPhase: (phase: string) => void,
): Promise<Migration> {
  let phase = '';
  return new Promise((resolve) => {
    const onChange = (m: Migration) => {
      if (m.id !== first.id) return;
      if (!migrationDone(m.phase)) {
        const now = migrationPhases.name(m.phase);
        if (now !== phase) onPhase(now);
        phase = now;
        return;
      }
      coordinator.off('migration', onChange);
      signal.removeEventListener('abort', onDeadline);
      resolve(m);
    };
    const onDeadline = () => {
      try {
        coordinator.cancel(first.id);
      } catch {
        // It ended meanwhile: its own event resolves.
      }
    };
    coordinator.on('migration', onChange);
    signal.addEventListener('abort', onDeadline, { once: true });
    onChange(coordinator.get(first.id));
  });
}

function ended(m: Migration, serverName: (id: string) => string, pastDeadline: boolean): Partial<DrainItem> {
  if (m.phase === MigrationPhase.MIGRATION_PHASE_COMMITTED)
    return {
      outcome: DrainOutcome.DRAIN_OUTCOME_MOVED,
      targetServerId: m.targetServerId,
      downtimeMs: Math.round(m.timings?.downtimeMs ?? 0),
      message: '',
    };
  return {
    outcome: pastDeadline ? DrainOutcome.DRAIN_OUTCOME_LEFT : DrainOutcome.DRAIN_OUTCOME_FAILED,
    targetServerId: '',
    message: `migration ${m.id} to ${serverName(m.targetServerId)} ${migrationPhases.name(m.phase)}${m.error ? `: ${m.error}` : ''}; it still runs on ${serverName(m.sourceServerId)}`,
  };
}
