import { resolve } from 'node:path';
import { MigrationStrategy, RestartPolicy, type WorkloadSpec } from '../../src/core/workload.js';

/** The echo-server example: answers each line with its VERSION and the line. */
export const ECHO = resolve(import.meta.dirname, '../../examples/echo-server.mjs');

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

/** The echo-server example as a workload serving `port`, answering as `version`. */
export function echoSpec(
  name: string,
  version: string,
  port: number,
  strategy: MigrationStrategy = MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
): WorkloadSpec {
  return workloadSpec(name, process.execPath, {
    args: [ECHO],
    env: { VERSION: version },
    strategy,
    checkpointSignal: 'SIGUSR1',
    checkpointTimeoutMs: 10_000,
    ports: [port],
  });
}
