import { describe, expect, it } from 'vitest';
import { DrainOutcome, type DrainItem } from '../../src/core/drain.js';
import { moveOne, type MoveParts, type ReplicaHooks } from '../../src/controller/drain/move-one.js';
import type { Coordinator } from '../../src/controller/migration/coordinator.js';

/** Deployments' hooks as a recording: which replicas they were asked to reschedule, and why. */
function recordedReplicas(owned: string[], fail?: string) {
  const calls: { workload: string; reason: string }[] = [];
  const hooks: ReplicaHooks = {
    owns: (w) => owned.includes(w),
    async reschedule(workload, reason) {
      calls.push({ workload, reason });
      if (fail) throw new Error(fail);
    },
  };
  return { hooks, calls };
}

/** A coordinator no test here may reach: a replica is the deployment's to move, never migrated. */
const untouchable = new Proxy({} as Coordinator, {
  get(_t, key) {
    throw new Error(`the coordinator was asked for ${String(key)}`);
  },
});

function job(workload: string) {
  const updates: Partial<DrainItem>[] = [];
  return {
    updates,
    job: {
      workload,
      drainedName: 'gpu-02',
      requestedBy: 'ann',
      deadlineMs: Date.now() + 60_000,
      signal: new AbortController().signal,
      update: (c: Partial<DrainItem>) => updates.push(c),
    },
  };
}

describe('a drain hands deployment replicas to their deployment', () => {
  it('reschedules a replica it owns instead of migrating it', async () => {
    const { hooks, calls } = recordedReplicas(['web-1']);
    const parts: MoveParts = { coordinator: untouchable, replicas: hooks, serverName: (id) => id };
    const { job: j, updates } = job('web-1');
    expect(await moveOne(parts, j)).toEqual({ outcome: DrainOutcome.DRAIN_OUTCOME_MOVED });
    expect(calls).toEqual([{ workload: 'web-1', reason: 'drain of gpu-02' }]);
    expect(updates).toEqual([{ how: 'reschedule', outcome: DrainOutcome.DRAIN_OUTCOME_MOVING }]);
  });

  it('reports a reschedule that fails, with its reason', async () => {
    const { hooks } = recordedReplicas(['web-1'], 'no host matches gpu=a100');
    const parts: MoveParts = { coordinator: untouchable, replicas: hooks, serverName: (id) => id };
    expect(await moveOne(parts, job('web-1').job)).toEqual({
      outcome: DrainOutcome.DRAIN_OUTCOME_FAILED,
      message: 'no host matches gpu=a100',
    });
  });
});
