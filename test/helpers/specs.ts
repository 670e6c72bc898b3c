import { MigrationStrategy, RestartPolicy, type WorkloadSpec } from '../../src/core/workload.js';

/** A workload spec with every field at its plain default, as a test starts one on a supervisor. */
export function workloadSpec(name: string, command: string, extra: Partial<WorkloadSpec> = {}): WorkloadSpec {
  return {
    name,
    command,
    args: [],
    env: {},
    cwd: '',
    labels: {},
    restart: RestartPolicy.RESTART_POLICY_NEVER,
    strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
    checkpointSignal: '',
    checkpointTimeoutMs: 0,
    ports: [],
    ...extra,
  };
}
