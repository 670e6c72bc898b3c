import { names } from './names.js';
import {
  MigrationPhase,
  MigrationStrategy,
  type MigrationTimings,
  RestartPolicy,
  WorkloadState,
} from '../gen/switchyard/v1/workload.js';
export type {
  Migration,
  MigrationTimings,
  PreflightCheck,
  Workload,
  WorkloadSpec,
} from '../gen/switchyard/v1/workload.js';
export { MigrationPhase, MigrationStrategy, RestartPolicy, WorkloadState };

export const strategies = names<MigrationStrategy>(
  [
    [MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT, 'checkpoint'],
    [MigrationStrategy.MIGRATION_STRATEGY_RESTART, 'restart'],
    [MigrationStrategy.MIGRATION_STRATEGY_FREEZE, 'freeze'],
  ],
  'unknown',
);

export const restartPolicies = names<RestartPolicy>(
  [
    [RestartPolicy.RESTART_POLICY_NEVER, 'never'],
    [RestartPolicy.RESTART_POLICY_ON_FAILURE, 'on-failure'],
    [RestartPolicy.RESTART_POLICY_ALWAYS, 'always'],
  ],
  'never',
);

export const workloadStates = names<WorkloadState>(
  [
    [WorkloadState.WORKLOAD_STATE_RUNNING, 'running'],
    [WorkloadState.WORKLOAD_STATE_PAUSED, 'paused'],
    [WorkloadState.WORKLOAD_STATE_BACKOFF, 'backoff'],
    [WorkloadState.WORKLOAD_STATE_EXITED, 'exited'],
    [WorkloadState.WORKLOAD_STATE_CHECKPOINTING, 'checkpointing'],
    [WorkloadState.WORKLOAD_STATE_CHECKPOINTED, 'checkpointed'],
  ],
  'unknown',
);

export const migrationPhases = names<MigrationPhase>(
  [
    [MigrationPhase.MIGRATION_PHASE_PLANNED, 'planned'],
    [MigrationPhase.MIGRATION_PHASE_PREFLIGHT, 'preflight'],
    [MigrationPhase.MIGRATION_PHASE_PRECOPYING, 'precopying'],
    [MigrationPhase.MIGRATION_PHASE_CHECKPOINTING, 'checkpointing'],
    [MigrationPhase.MIGRATION_PHASE_TRANSFERRING, 'transferring'],
    [MigrationPhase.MIGRATION_PHASE_RESTORING, 'restoring'],
    [MigrationPhase.MIGRATION_PHASE_VERIFYING, 'verifying'],
    [MigrationPhase.MIGRATION_PHASE_COMMITTED, 'committed'],
    [MigrationPhase.MIGRATION_PHASE_ROLLING_BACK, 'rolling_back'],
    [MigrationPhase.MIGRATION_PHASE_ROLLED_BACK, 'rolled_back'],
    [MigrationPhase.MIGRATION_PHASE_FAILED, 'failed'],
  ],
  'unknown',
);

/** A migration's timings before anything was measured. */
export function noTimings(): MigrationTimings {
  return { transferBytes: 0, precopyRounds: 0, precopyBytes: 0, bytesSaved: 0 };
}

/** A phase as people read it, "rolled back"; the name above stays the JSON value and the flag word. */
export function phaseWords(phase: MigrationPhase): string {
  return migrationPhases.name(phase).replace(/_/g, ' ');
}

const TERMINAL = new Set<MigrationPhase>([
  MigrationPhase.MIGRATION_PHASE_COMMITTED,
  MigrationPhase.MIGRATION_PHASE_ROLLED_BACK,
  MigrationPhase.MIGRATION_PHASE_FAILED,
]);

export function migrationDone(phase: MigrationPhase): boolean {
  return TERMINAL.has(phase);
}

/** Workload names: they name directories and appear in commands, so keep them plain. */
export const WORKLOAD_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export const DEFAULT_CHECKPOINT_SIGNAL = 'SIGUSR1';
export const DEFAULT_CHECKPOINT_TIMEOUT_MS = 30_000;
