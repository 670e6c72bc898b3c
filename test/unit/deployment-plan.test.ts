import { describe, expect, it } from 'vitest';
import { listText, statusJson, statusText, toJson } from '../../src/cli/format-deployments.js';
import {
  RESCHEDULE_FIRST_MS,
  RESCHEDULE_MAX_MS,
  RESCHEDULE_STABLE_MS,
  RescheduleDelay,
} from '../../src/controller/deployments/backoff.js';
import { nowhereReason, pickHost, schedulable } from '../../src/controller/deployments/placement.js';
import { planPass, type PassView } from '../../src/controller/deployments/plan.js';
import { replicaSpec, sortReplicas } from '../../src/controller/deployments/replicas.js';
import { Registry } from '../../src/controller/registry.js';
import { desiredReplicas, metricValue } from '../../src/controller/deployments/autoscale.js';
import type { Deployment, DeploymentStatus } from '../../src/core/deployment.js';
import type { KnownWorkload } from '../../src/core/domain.js';
import { parseDeploymentFile } from '../../src/core/schema/deployment.js';
import { ServerState, type Server } from '../../src/core/types.js';
import { WorkloadState } from '../../src/core/workload.js';

const web = (extra = ''): Deployment => ({
  ...parseDeploymentFile(
    `name: web\nreplicas: 3\ntemplate: {command: /bin/sleep, args: ["60"]}\nupdate: {maxSurge: 1, maxUnavailable: 0, healthTimeout: 5s}\n${extra}`,
    'web.yaml',
  ),
  version: 2,
});

function replica(d: Deployment, version: number, i: number, healthy = true): KnownWorkload {
  const spec = replicaSpec(d, d.template!, version, `web-${version}-${i}`);
  return {
    spec,
    serverId: `s${i}`,
    state: healthy ? WorkloadState.WORKLOAD_STATE_RUNNING : WorkloadState.WORKLOAD_STATE_BACKOFF,
    pid: 1,
    startedMs: 0,
    exitSignal: '',
    restarts: 0,
    stateDir: '',
    restored: false,
    message: '',
  };
}

function view(d: Deployment, live: KnownWorkload[], extra: Partial<PassView> = {}): PassView {
  return {
    d,
    live,
    pending: 0,
    waitingLost: 0,
    evicted: new Set(),
    healthy: (w) => w.state === WorkloadState.WORKLOAD_STATE_RUNNING,
    startedMs: () => 0,
    nowMs: 1000,
    halted: false,
    ...extra,
  };
}

function server(id: string, extra: Partial<Server> = {}): Server {
  return {
    id,
    name: `host-${id}`,
    hostname: id,
    addresses: [],
    mac: '',
    labels: {},
    location: '',
    agentVersion: '',
    advertiseAddress: '',
    transferAddress: '',
    state: ServerState.SERVER_STATE_ONLINE,
    cordoned: false,
    firstSeenMs: 0,
    lastSeenMs: 0,
    stateSinceMs: 0,
    ...extra,
  };
}

describe('a deployment pass', () => {
  it('starts the missing replicas at once on create and scale-up', () => {
    const d = web();
    expect(planPass(view(d, []))).toEqual({ start: 3, stop: [], gateFailed: [] });
    expect(
      planPass(
        view(
          { ...d, replicas: 5 },
          [1, 2, 3].map((i) => replica(d, 2, i)),
        ),
      ).start,
    ).toBe(2);
  });

  it('stops the excess on scale-down, unhealthy ones first', () => {
    const d = web();
    const live = [replica(d, 2, 1), replica(d, 2, 2, false), replica(d, 2, 3)];
    const plan = planPass(view({ ...d, replicas: 2 }, live));
    expect(plan.start).toBe(0);
    expect(plan.stop.map((s) => s.w.spec.name)).toEqual(['web-2-2']);
  });

  it('rolls with surge 1, unavailable 0: one new first, an old one stops only once it is healthy', () => {
    const d = web();
    const old = [1, 2, 3].map((i) => replica(d, 1, i));
    expect(planPass(view(d, old))).toMatchObject({ start: 1, stop: [] });
    expect(planPass(view(d, [...old, replica(d, 2, 4, false)]))).toMatchObject({ start: 0, stop: [] });
    const next = planPass(view(d, [...old, replica(d, 2, 4)]));
    expect(next.stop.map((s) => s.why)).toEqual(['web-1-1 (v1) replaced by v2']);
    expect(next.start).toBe(1);
  });

  it('fails the gate when a new replica stays unhealthy past its timeout while old ones run', () => {
    const d = web();
    const bad = replica(d, 2, 4, false);
    const plan = planPass(view(d, [replica(d, 1, 1), bad], { nowMs: 6000 }));
    expect(plan).toEqual({ start: 0, stop: [], gateFailed: [bad] });
  });

  it('waits out the rescheduling delay before replacing a replica lost with its host', () => {
    const d = web();
    const live = [replica(d, 2, 1), replica(d, 2, 2)];
    expect(planPass(view(d, live, { waitingLost: 1 })).start).toBe(0);
    expect(planPass(view(d, live)).start).toBe(1);
  });

  it('replaces an evicted replica like an older version', () => {
    const d = web();
    const live = [1, 2, 3].map((i) => replica(d, 2, i));
    expect(planPass(view(d, live, { evicted: new Set(['web-2-1']) }))).toMatchObject({ start: 1, stop: [] });
  });
});

describe('replicas as a pass sorts them', () => {
  it('count a replica live on two hosts (a migration) once, as the instance that runs; lost with a down host', () => {
    const d = web();
    const registry = new Registry({ heartbeatTtlMs: () => 3000, graceMs: 3000 });
    for (const id of ['s1', 's2', 's3']) registry.restore(server(id));
    const moving = replica(d, 2, 1);
    const source = { ...moving, serverId: 's2', state: WorkloadState.WORKLOAD_STATE_CHECKPOINTING };
    const ended = { ...replica(d, 2, 2), state: WorkloadState.WORKLOAD_STATE_EXITED };
    const away = { ...replica(d, 2, 9) };
    const sets = sortReplicas([source, moving, ended, away], registry);
    expect(sets.live.map((w) => `${w.spec.name}@${w.serverId}`)).toEqual(['web-2-1@s1']);
    expect(sets.ended.map((w) => w.spec.name)).toEqual(['web-2-2']);
    expect(sets.lost.map((w) => `${w.spec.name}@${w.serverId}`)).toEqual(['web-2-9@s9']);
  });
});

describe('rescheduling delays', () => {
  it('double from 5 s to at most an hour, and start again once stable', () => {
    const delay = new RescheduleDelay();
    const seen: number[] = [];
    for (let i = 0; i < 12; i++) {
      seen.push(delay.delayMs(i));
      delay.rescheduled(i);
    }
    expect(seen.slice(0, 4)).toEqual([RESCHEDULE_FIRST_MS, 10_000, 20_000, 40_000]);
    expect(seen.at(-1)).toBe(RESCHEDULE_MAX_MS);
    expect(delay.delayMs(11 + RESCHEDULE_STABLE_MS)).toBe(RESCHEDULE_FIRST_MS);
  });
});

describe('placement', () => {
  const connected = (id: string) => id !== 'away';
  it('spreads: a host without a replica, the emptiest first; none when every host has one', () => {
    const d = web();
    const load = (cpuPct: number) =>
      ({ cpuPct, gpus: [], memoryUsedBytes: 1, memoryTotalBytes: 2 }) as unknown as Server['latest'];
    const servers = [server('a', { latest: load(90) }), server('b', { latest: load(10) }), server('c')];
    expect(pickHost(d, servers, new Map([['c', 1]]), connected)?.id).toBe('b');
    expect(
      pickHost(
        d,
        servers,
        new Map([
          ['a', 1],
          ['b', 1],
          ['c', 1],
        ]),
        connected,
      ),
    ).toBeUndefined();
    expect(nowhereReason(d, servers, connected)).toMatch(/3 server\(s\), 3 online, 3 fit, each already running one/);
    const shared = { ...d, placement: { ...d.placement!, allowSameHost: true } };
    expect(
      pickHost(
        shared,
        servers,
        new Map([
          ['a', 1],
          ['b', 2],
          ['c', 1],
        ]),
        connected,
      )?.id,
    ).toBe('a');
  });

  it('places only on schedulable servers that carry the labels and GPUs asked for', () => {
    const d = web('placement: {labels: {zone: east}, gpus: 1}\n');
    const gpu = { gpus: [{ index: 0, name: 'H100', uuid: 'u' }], migrationStrategies: [], proxy: false };
    const servers = [
      server('away', { labels: { zone: 'east' }, capabilities: gpu }),
      server('down', { labels: { zone: 'east' }, capabilities: gpu, state: ServerState.SERVER_STATE_DOWN }),
      server('west', { labels: { zone: 'west' }, capabilities: gpu }),
      server('cpu', { labels: { zone: 'east' } }),
      server('ok', { labels: { zone: 'east' }, capabilities: gpu }),
    ];
    expect(servers.filter((s) => schedulable(s, connected)).map((s) => s.id)).toEqual(['west', 'cpu', 'ok']);
    expect(pickHost(d, servers, new Map(), connected)?.id).toBe('ok');
  });
});

describe('autoscaling', () => {
  it('computes ceil(current × actual / target) within min and max, and says the numbers', () => {
    const d = web('autoscale: {min: 1, max: 4, target: {connectionsPerReplica: 2}}\n');
    expect(desiredReplicas(d, 3, 2.8)).toEqual({
      replicas: 4,
      reason: 'connectionsPerReplica 2.8 vs target 2 over 3 replica(s): 3 → 4 (5 held within 1-4)',
    });
    expect(desiredReplicas(d, 3, 0.5)?.replicas).toBe(1);
    expect(desiredReplicas(d, 3, Number.NaN)).toBeUndefined();
  });

  it('reads CPU from the workload when sampled, else its host, and GPU utilisation from the hosts', () => {
    const cpu = web('autoscale: {min: 1, max: 4, target: {cpuPercent: 50}}\n');
    const gpu = web('autoscale: {min: 1, max: 4, target: {gpuUtilPercent: 50}}\n');
    const hosts = new Map<string, Server>([
      [
        's1',
        server('s1', {
          latest: { cpuPct: 90, gpus: [{ utilizationPct: 80 }, { utilizationPct: 40 }] } as unknown as Server['latest'],
        }),
      ],
      ['s2', server('s2', { latest: { cpuPct: 30, gpus: [] } as unknown as Server['latest'] })],
    ]);
    const src = { server: (id: string) => hosts.get(id) };
    const sampled = { ...replica(cpu, 2, 1), cpuPct: 70 };
    expect(metricValue(cpu, [sampled, replica(cpu, 2, 2)], src)).toBe(50);
    expect(metricValue(gpu, [replica(gpu, 2, 1), replica(gpu, 2, 2)], src)).toBe(60);
    expect(metricValue(cpu, [replica(cpu, 2, 3)], src)).toBeNaN();
  });
});

describe('deployment output', () => {
  const d = web('route: {name: web, port: 9000}\n');
  const status: DeploymentStatus = {
    deployment: d,
    desired: 3,
    running: 2,
    healthy: 1,
    message: 'starting web-2-ab12 (v2) on host-b: 2 of 3',
    replicas: [
      {
        workload: 'web-2-aa11',
        serverId: 's1',
        version: 2,
        state: WorkloadState.WORKLOAD_STATE_RUNNING,
        healthy: true,
      },
      {
        workload: 'web-2-ab12',
        serverId: 's2',
        version: 2,
        state: WorkloadState.WORKLOAD_STATE_RUNNING,
        healthy: false,
      },
    ],
  };
  const names = new Map([['s1', 'host-a']]);

  it('lists a row per deployment and a row per replica', () => {
    expect(listText([status])).toBe(
      'NAME  VERSION  DESIRED  RUNNING  HEALTHY  ROUTE  AUTOSCALE\nweb   v2       3        2        1        web    off\n',
    );
    const text = statusText(status, names);
    expect(text).toMatch(/^web v2: 2\/3 running, 1 healthy\n {2}route: web \(port 9000\)/);
    expect(text).toMatch(/web-2-aa11\s+host-a\s+v2\s+running\s+yes/);
    expect(text).toMatch(/web-2-ab12\s+s2\s+v2\s+running\s+no/);
    expect(JSON.parse(toJson(statusJson(status, names)))).toMatchObject({
      name: 'web',
      replicas: [{ server: 'host-a', state: 'running', healthy: true }, { server: 's2' }],
    });
  });
});
