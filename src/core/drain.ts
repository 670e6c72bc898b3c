import { names } from './names.js';
import { isScraped, stateName, ServerState, type Server } from './types.js';
import { DrainOutcome, DrainPhase, type Drain, type DrainItem } from '../gen/switchyard/v1/fleet.js';
export type { Drain, DrainItem };
export { DrainOutcome, DrainPhase };

export const drainPhases = names<DrainPhase>(
  [
    [DrainPhase.DRAIN_PHASE_DRAINING, 'draining'],
    [DrainPhase.DRAIN_PHASE_DRAINED, 'drained'],
    [DrainPhase.DRAIN_PHASE_FAILED, 'failed'],
  ],
  'unknown',
);

export const drainOutcomes = names<DrainOutcome>(
  [
    [DrainOutcome.DRAIN_OUTCOME_WAITING, 'waiting'],
    [DrainOutcome.DRAIN_OUTCOME_MOVING, 'moving'],
    [DrainOutcome.DRAIN_OUTCOME_MOVED, 'moved'],
    [DrainOutcome.DRAIN_OUTCOME_FAILED, 'failed'],
    [DrainOutcome.DRAIN_OUTCOME_LEFT, 'left'],
  ],
  'unknown',
);

/** A workload of a drain that has not moved yet. */
export function waitingItem(workload: string): DrainItem {
  return {
    workload,
    outcome: DrainOutcome.DRAIN_OUTCOME_WAITING,
    how: '',
    migrationId: '',
    targetServerId: '',
    downtimeMs: 0,
    message: '',
    phase: '',
  };
}

export const drainDone = (d: Pick<Drain, 'phase'>): boolean => d.phase !== DrainPhase.DRAIN_PHASE_DRAINING;

/** How many of a drain's workloads ended each way. */
export function drainCounts(d: Pick<Drain, 'workloads'>): {
  moved: number;
  failed: number;
  left: number;
  total: number;
} {
  const n = (o: DrainOutcome) => d.workloads.filter((w) => w.outcome === o).length;
  return {
    moved: n(DrainOutcome.DRAIN_OUTCOME_MOVED),
    failed: n(DrainOutcome.DRAIN_OUTCOME_FAILED),
    left: n(DrainOutcome.DRAIN_OUTCOME_LEFT),
    total: d.workloads.length,
  };
}

/**
 * Why no new work may land on this server, or undefined when it may (it is schedulable): the one
 * rule for migration targets, the controller's placement and `yard run --on`.
 */
export function unschedulable(server: Pick<Server, 'name' | 'state' | 'cordoned' | 'source'>): string | undefined {
  if (isScraped(server)) return `${server.name} is a scraped host: no agent of ours runs there`;
  if (server.cordoned) return `${server.name} is cordoned: it takes no new work until \`yard uncordon ${server.name}\``;
  if (server.state !== ServerState.SERVER_STATE_ONLINE)
    return `${server.name} is not online (${stateName(server.state)})`;
  return undefined;
}

/** The word the fleet views and `yard servers` show for a host out of service, if it is. */
export function cordonWord(
  server: Pick<Server, 'cordoned' | 'drain'>,
): 'draining' | 'drained' | 'drain failed' | 'cordoned' | undefined {
  const phase = server.drain?.phase;
  if (phase === DrainPhase.DRAIN_PHASE_DRAINING) return 'draining';
  if (!server.cordoned) return undefined;
  if (phase === DrainPhase.DRAIN_PHASE_DRAINED) return 'drained';
  if (phase === DrainPhase.DRAIN_PHASE_FAILED) return 'drain failed';
  return 'cordoned';
}
