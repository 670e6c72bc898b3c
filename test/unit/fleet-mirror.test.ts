import { describe, expect, it } from 'vitest';
import { FleetMirror } from '../../src/cli/fleet-mirror.js';
import {
  MigrationPhase,
  MigrationStrategy,
  RestartPolicy,
  WorkloadState,
  type Migration,
  type Workload,
} from '../../src/core/workload.js';
import { SERIES_CAPACITY } from '../../src/core/series.js';
import type { Server } from '../../src/core/types.js';
import type { WatchFleetResponse } from '../../src/gen/switchyard/v1/control.js';
import { HOSTS, makeSample, makeServer } from '../tui/fleet-fixture.js';
import { sampleMigrations } from '../tui/fixture-workloads.js';

const NOW = 1_700_000_000_000;
const snapshot = (servers: Server[]): WatchFleetResponse => ({
  event: { $case: 'snapshot', value: { servers, nextPageToken: '' } },
});
const sample = (serverId: string, t: number): WatchFleetResponse => ({
  event: { $case: 'sample', value: { serverId, sample: makeSample(HOSTS.a100, t, NOW + t * 1000), earlier: [] } },
});
const workload = (name: string, serverId: string): Workload => ({
  spec: {
    name,
    command: '/bin/sh',
    args: [],
    env: {},
    cwd: '',
    labels: {},
    restart: RestartPolicy.RESTART_POLICY_NEVER,
    strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
    checkpointSignal: 'SIGUSR1',
    checkpointTimeoutMs: 5000,
    ports: [],
  },
  serverId,
  state: WorkloadState.WORKLOAD_STATE_RUNNING,
  pid: 1,
  startedMs: NOW,
  exitSignal: '',
  restarts: 0,
  stateDir: '',
  restored: false,
  message: '',
});

describe('FleetMirror (what an attached dashboard knows of the fleet)', () => {
  it('builds servers from the snapshot and keeps each one’s history in its rings', () => {
    const m = new FleetMirror();
    const changes = m.apply(snapshot([makeServer(HOSTS.t4, NOW), makeServer(HOSTS.a100, NOW)]));
    expect(changes).toEqual(
      expect.arrayContaining([
        { kind: 'server', id: 'srv-a100' },
        { kind: 'server', id: 'srv-t4' },
      ]),
    );
    expect(m.list().map((s) => s.server.name)).toEqual(['gpu-a100-01', 'gpu-t4-03']);
    for (let t = 0; t < 300; t++) expect(m.apply(sample('srv-a100', t))).toEqual([{ kind: 'sample', id: 'srv-a100' }]);
    const a100 = m.get('gpu-a100-01')!;
    expect(a100.series.cpu.length).toBe(SERIES_CAPACITY);
    expect(a100.series.gpus).toHaveLength(4);
    expect(a100.server.latest?.timestampMs).toBe(NOW + 299_000);
    expect(m.apply(sample('srv-unknown', 1))).toEqual([]);
  });

  it('keys workloads by server and name, and forgets removed ones', () => {
    const m = new FleetMirror();
    m.apply(snapshot([makeServer(HOSTS.t4, NOW), makeServer(HOSTS.a100, NOW)]));
    m.apply({ event: { $case: 'workload', value: workload('job', 'srv-a100') } });
    m.apply({ event: { $case: 'workload', value: workload('job', 'srv-t4') } });
    expect(m.workloads().map((w) => w.serverId)).toEqual(['srv-a100', 'srv-t4']);
    expect(m.apply({ event: { $case: 'workloadRemoved', value: { name: 'job', serverId: 'srv-a100' } } })).toEqual([
      { kind: 'workload', name: 'job' },
    ]);
    expect(m.workloads().map((w) => w.serverId)).toEqual(['srv-t4']);
  });

  it('keeps migrations newest first, and no more than it was told', () => {
    const m = new FleetMirror(2);
    for (const x of sampleMigrations(NOW)) m.apply({ event: { $case: 'migration', value: x } });
    expect(m.migrations().map((x) => x.workload)).toEqual(['api-gateway', 'trainer-llama']);
    const [newest] = sampleMigrations(NOW) as [Migration];
    // An action's answer older than what the stream said is not taken.
    expect(
      m.learnMigration({ ...newest, phase: MigrationPhase.MIGRATION_PHASE_PLANNED, updatedMs: newest.updatedMs - 1 }),
    ).toBeUndefined();
    expect(m.migrations()[0]!.phase).toBe(MigrationPhase.MIGRATION_PHASE_COMMITTED);
  });

  it('lets a fresh snapshot replace everything: gone servers are dropped, the rest keep their history', () => {
    const m = new FleetMirror();
    m.apply(snapshot([makeServer(HOSTS.t4, NOW), makeServer(HOSTS.a100, NOW)]));
    m.apply(sample('srv-a100', 1));
    m.apply({ event: { $case: 'workload', value: workload('job', 'srv-t4') } });
    for (const x of sampleMigrations(NOW)) m.apply({ event: { $case: 'migration', value: x } });

    const changes = m.apply(snapshot([makeServer(HOSTS.a100, NOW)]));
    expect(changes).toEqual(
      expect.arrayContaining([
        { kind: 'server', id: 'srv-t4' },
        { kind: 'workload', name: 'job' },
      ]),
    );
    expect(m.list().map((s) => s.server.id)).toEqual(['srv-a100']);
    expect(m.get('srv-t4')).toBeUndefined();
    expect(m.get('srv-a100')!.series.cpu.length).toBe(1);
    expect(m.workloads()).toEqual([]);
    expect(m.migrations()).toEqual([]);
  });
});
