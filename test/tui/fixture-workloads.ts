// The workloads and migration history of the sample fleet (servers srv-a100, srv-web, srv-t4).
import {
  noTimings,
  MigrationPhase as Phase,
  MigrationStrategy as Strategy,
  RestartPolicy,
  WorkloadState as State,
  type Migration,
  type PreflightCheck,
  type Workload,
  type WorkloadSpec,
} from '../../src/core/workload.js';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const HOUR = 3_600_000;

function spec(name: string, command: string, args: string[], strategy: Strategy): WorkloadSpec {
  return {
    name,
    command,
    args,
    env: {},
    cwd: '/srv/work',
    labels: { team: name.startsWith('trainer') || name === 'embedder' ? 'ml' : 'platform' },
    restart: RestartPolicy.RESTART_POLICY_ON_FAILURE,
    strategy,
    checkpointSignal: 'SIGUSR1',
    checkpointTimeoutMs: 30_000,
    ports: [],
  };
}

function workload(
  s: WorkloadSpec,
  serverId: string,
  state: State,
  startedMs: number,
  extra: Partial<Workload> = {},
): Workload {
  return {
    spec: s,
    serverId,
    state,
    pid: 4242,
    startedMs,
    exitSignal: '',
    restarts: 0,
    stateDir: `/var/lib/yard/state/${s.name}`,
    restored: false,
    message: '',
    ...extra,
  };
}

export interface SampleWorkload {
  workload: Workload;
  checkpointBytes: number;
}

/**
 * trainer-llama fits the T4 host (12 GiB of GPU memory); embedder (40 GiB) fits nowhere;
 * vector-db's 2 TiB checkpoint passes the ranking but fails the disk preflight on any host;
 * nightly-etl sits on the disconnected host.
 */
export function sampleWorkloads(now: number): SampleWorkload[] {
  return [
    {
      workload: workload(
        spec('trainer-llama', 'python', ['train.py', '--resume'], Strategy.MIGRATION_STRATEGY_CHECKPOINT),
        'srv-a100',
        State.WORKLOAD_STATE_RUNNING,
        now - 3 * HOUR - 12 * 60_000,
        { cpuPct: 87.5, rssBytes: 34 * GIB, gpuMemoryMib: 12 * 1024 },
      ),
      checkpointBytes: 12 * GIB,
    },
    {
      workload: workload(
        spec('embedder', 'python', ['embed.py'], Strategy.MIGRATION_STRATEGY_FREEZE),
        'srv-a100',
        State.WORKLOAD_STATE_RUNNING,
        now - 26 * HOUR,
        { cpuPct: 23.1, rssBytes: 8 * GIB, gpuMemoryMib: 40 * 1024, restarts: 1 },
      ),
      checkpointBytes: 6 * GIB,
    },
    {
      workload: workload(
        spec('api-gateway', 'node', ['server.js'], Strategy.MIGRATION_STRATEGY_RESTART),
        'srv-t4',
        State.WORKLOAD_STATE_RUNNING,
        now - 2 * HOUR,
        { cpuPct: 4.2, rssBytes: 310 * MIB, restarts: 2, message: 'migrated from gpu-a100-01' },
      ),
      checkpointBytes: 0,
    },
    {
      workload: workload(
        spec('vector-db', 'qdrant', ['--config', 'qdrant.yaml'], Strategy.MIGRATION_STRATEGY_CHECKPOINT),
        'srv-t4',
        State.WORKLOAD_STATE_RUNNING,
        now - 50 * HOUR,
        { cpuPct: 12, rssBytes: 22 * GIB },
      ),
      checkpointBytes: 2048 * GIB,
    },
    {
      workload: workload(
        spec('nightly-etl', 'bash', ['etl.sh'], Strategy.MIGRATION_STRATEGY_RESTART),
        'srv-web',
        State.WORKLOAD_STATE_EXITED,
        now - 8 * HOUR,
        { exitCode: 0, pid: 0, message: 'exited 0' },
      ),
      checkpointBytes: 0,
    },
  ];
}

const PASSED: PreflightCheck[] = [
  { name: 'target-online', ok: true, reason: 'online' },
  { name: 'strategy', ok: true, reason: 'supported' },
  { name: 'disk', ok: true, reason: 'enough free' },
  { name: 'exclusive', ok: true, reason: 'no other migration of it in flight' },
];

function migration(
  id: string,
  w: string,
  from: string,
  to: string,
  strategy: Strategy,
  phase: Phase,
  createdMs: number,
  tookMs: number,
  extra: Partial<Migration>,
): Migration {
  return {
    id,
    workload: w,
    sourceServerId: from,
    targetServerId: to,
    strategy,
    phase,
    requestedBy: 'alice',
    createdMs,
    updatedMs: createdMs + tookMs,
    finishedMs: createdMs + tookMs,
    preflight: PASSED,
    timings: noTimings(),
    bytesDone: 0,
    bytesTotal: 0,
    checkpointSha256: '',
    precopy: false,
    error: '',
    transferPath: '',
    ...extra,
  };
}

/** Finished migrations, newest first: one committed, one rolled back, one failed. */
export function sampleMigrations(now: number): Migration[] {
  return [
    migration(
      'a1b2c3d4-0000-4000-8000-000000000001',
      'api-gateway',
      'srv-a100',
      'srv-t4',
      Strategy.MIGRATION_STRATEGY_RESTART,
      Phase.MIGRATION_PHASE_COMMITTED,
      now - 2 * HOUR - 60_000,
      4_200,
      {
        timings: { ...noTimings(), restoreMs: 2_400, verifyMs: 1_100, downtimeMs: 0 },
      },
    ),
    migration(
      'e5f6a7b8-0000-4000-8000-000000000002',
      'trainer-llama',
      'srv-t4',
      'srv-a100',
      Strategy.MIGRATION_STRATEGY_CHECKPOINT,
      Phase.MIGRATION_PHASE_ROLLED_BACK,
      now - 26 * HOUR,
      21_000,
      {
        timings: { ...noTimings(), checkpointMs: 2_100, transferMs: 9_800, transferBytes: 11.5 * GIB },
        bytesDone: 11.5 * GIB,
        bytesTotal: 11.5 * GIB,
        error: 'checksum mismatch on gpu-a100-01: the source was restored from its checkpoint',
      },
    ),
    migration(
      'c9d0e1f2-0000-4000-8000-000000000003',
      'vector-db',
      'srv-web',
      'srv-t4',
      Strategy.MIGRATION_STRATEGY_CHECKPOINT,
      Phase.MIGRATION_PHASE_FAILED,
      now - 74 * HOUR,
      6_500,
      {
        timings: { ...noTimings(), checkpointMs: 3_000 },
        bytesDone: 40 * GIB,
        bytesTotal: 410 * GIB,
        error: 'agent on cpu-web-02 disconnected during transfer',
      },
    ),
  ];
}
