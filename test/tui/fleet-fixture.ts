// An in-memory FleetSource fed with realistic records and samples through the same
// ServerSeries.record() the controller uses: what the dashboard reads is shaped like the real thing.
import type { FleetActions, FleetChange, FleetRoute, FleetServer, FleetSource } from '../../src/core/fleet.js';
import type { Role } from '../../src/core/pki/roles.js';
import { ServerSeries } from '../../src/core/series.js';
import { ServerState, type GpuSample, type HostSample, type Server } from '../../src/core/types.js';
import { knownWorkload, type KnownWorkload } from '../../src/core/domain.js';
import type { Migration, Workload } from '../../src/core/workload.js';
import type { DeploymentStatus } from '../../src/core/deployment.js';
import { FixtureCoordinator } from './fixture-coordinator.js';
import { FixtureDeployments } from './fixture-deployments.js';
import { fleetActions, FixtureRoutes } from './fixture-routes.js';
import { FixtureServerActions } from './fixture-server-actions.js';
import { FixtureWorkloadActions } from './fixture-workload-actions.js';
import { sampleMigrations, sampleWorkloads } from './fixture-workloads.js';

const GIB = 1024 ** 3;

export class FixtureFleet implements FleetSource {
  readonly controllerAddress = '127.0.0.1:7400';
  readonly mode = 'embedded' as const;
  /** What the controller lets the dashboard's caller do; a test makes it a viewer. */
  role: Role = 'admin';
  private readonly servers = new Map<string, FleetServer>();
  private sorted: FleetServer[] | undefined;
  private readonly listeners = new Set<(change: FleetChange) => void>();
  private readonly workloadsByName = new Map<string, KnownWorkload>();
  private readonly archiveBytes = new Map<string, number>();
  private sortedWorkloads: KnownWorkload[] | undefined;
  /** Newest first, as the interface promises. */
  private history: Migration[] = [];
  /** The clock the coordinator stamps migrations with. */
  now: () => number = Date.now;
  readonly coordinator: FixtureCoordinator = new FixtureCoordinator({
    list: () => this.list(),
    get: (id) => this.get(id),
    workload: (name) => this.workloadsByName.get(name),
    checkpointBytes: (name) => this.archiveBytes.get(name) ?? 0,
    putWorkload: (w) => this.putWorkload(w),
    putMigration: (m) => this.putMigration(m),
    migrations: () => this.migrations(),
    now: () => this.now(),
  });
  /** The routing table: empty until a test loads routes into it. */
  readonly routeTable = new FixtureRoutes((name) => this.emit({ kind: 'route', name }));
  /** Stop, restart, remove and logs: recorded, and applied to the fleet's records. */
  readonly workloadActions = new FixtureWorkloadActions({
    workload: (name) => this.workloadsByName.get(name),
    putWorkload: (w) => this.putWorkload(w),
    dropWorkload: (name) => {
      this.workloadsByName.delete(name);
      this.sortedWorkloads = undefined;
      this.emit({ kind: 'workload', name });
    },
  });
  /** Deployments: empty until a test puts some; scale and restart recorded. */
  readonly deploymentTable = new FixtureDeployments((name) => this.emit({ kind: 'deployment', name }));
  /** Cordon and drain: recorded, and applied to the server's record. */
  readonly serverActions = new FixtureServerActions({
    get: (id) => this.get(id),
    workloads: () => this.workloads(),
    changed: (id) => this.emit({ kind: 'server', id }),
  });
  readonly actions: FleetActions = fleetActions(
    this.coordinator,
    this.routeTable,
    this.workloadActions,
    this.serverActions,
    this.deploymentTable,
  );

  add(server: Server): FleetServer {
    const fs = { server, series: new ServerSeries() };
    this.servers.set(server.id, fs);
    this.sorted = undefined;
    this.emit({ kind: 'server', id: server.id });
    return fs;
  }

  /** Records a sample as the controller does: into the rings, as `latest`, as last seen. */
  record(id: string, sample: HostSample): void {
    const fs = this.servers.get(id);
    if (!fs) throw new Error(`no server ${id}`);
    fs.series.record(sample);
    fs.server.latest = sample;
    fs.server.lastSeenMs = sample.timestampMs;
    this.emit({ kind: 'sample', id });
  }

  setState(id: string, state: ServerState, since: number): void {
    const fs = this.servers.get(id)!;
    fs.server.state = state;
    fs.server.stateSinceMs = since;
    this.emit({ kind: 'server', id });
  }

  /** Adds or replaces a workload; `checkpointBytes` is what its agent would archive to move it. */
  putWorkload(sent: Workload, checkpointBytes?: number): void {
    const workload = knownWorkload(sent);
    const name = workload.spec.name;
    this.workloadsByName.set(name, workload);
    if (checkpointBytes !== undefined) this.archiveBytes.set(name, checkpointBytes);
    this.sortedWorkloads = undefined;
    this.emit({ kind: 'workload', name });
  }

  /** Adds a migration or replaces the one with its id (records are replaced, never mutated). */
  putMigration(migration: Migration): void {
    const at = this.history.findIndex((m) => m.id === migration.id);
    if (at >= 0) this.history = this.history.with(at, migration);
    else this.history = [migration, ...this.history].sort((a, b) => b.createdMs - a.createdMs);
    this.emit({ kind: 'migration', id: migration.id });
  }

  workloads(): readonly KnownWorkload[] {
    this.sortedWorkloads ??= [...this.workloadsByName.values()].sort((a, b) => a.spec.name.localeCompare(b.spec.name));
    return this.sortedWorkloads;
  }

  migrations(): readonly Migration[] {
    return this.history;
  }

  routes(): readonly FleetRoute[] {
    return this.routeTable.list();
  }

  deployments(): readonly DeploymentStatus[] {
    return this.deploymentTable.list();
  }

  list(): readonly FleetServer[] {
    this.sorted ??= [...this.servers.values()].sort((a, b) => a.server.name.localeCompare(b.server.name));
    return this.sorted;
  }

  get(id: string): FleetServer | undefined {
    return this.servers.get(id);
  }

  subscribe(listener: (change: FleetChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** The controller told the caller's role (as an attached source learns it after it dials). */
  setRole(role: Role): void {
    this.role = role;
    this.emit({ kind: 'role', role });
  }

  /** Says the controller was lost (since `since`) or is back, as an attached source does. */
  setConnected(connected: boolean, since: number): void {
    this.emit({ kind: 'connection', connected, since });
  }

  private emit(change: FleetChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

export interface HostSpec {
  id: string;
  name: string;
  labels?: Record<string, string>;
  cores?: number;
  memoryGib?: number;
  gpus?: { name: string; memoryMib: number; powerLimitW?: number }[];
  /** GPU fields this host's boards answer [N/A] for. */
  unknownGpuFields?: (keyof GpuSample)[];
  state?: ServerState;
}

export function makeServer(spec: HostSpec, now: number): Server {
  return {
    id: spec.id,
    name: spec.name,
    hostname: `${spec.name}.lab.example`,
    addresses: ['10.0.4.17', 'fe80::42:acff:fe11:2'],
    advertiseAddress: '10.0.4.17',
    transferAddress: '',
    cordoned: false,
    mac: '02:42:ac:11:00:02',
    labels: spec.labels ?? {},
    location: '',
    capabilities: {
      gpus: (spec.gpus ?? []).map((g, index) => ({
        index,
        name: g.name,
        uuid: `GPU-${spec.id}-${index}`,
        memoryTotalMib: g.memoryMib,
      })),
      migrationStrategies: ['checkpoint', 'restart', 'freeze'],
      proxy: true,
    },
    host: {
      os: 'Ubuntu 22.04.4 LTS',
      kernel: '6.5.0-35-generic',
      arch: 'x64',
      cpuModel: 'AMD EPYC 7763 64-Core Processor',
      cpuCores: spec.cores ?? 8,
      memoryTotalBytes: (spec.memoryGib ?? 64) * GIB,
    },
    agentVersion: '0.1.0',
    state: spec.state ?? ServerState.SERVER_STATE_ONLINE,
    firstSeenMs: now - 3_600_000,
    lastSeenMs: now,
    stateSinceMs: now - 3_600_000,
  };
}

/** Every host's root disk, which holds the agent's data dir. */
const ROOT_DISK = { sizeBytes: 931 * GIB, usedBytes: 412 * GIB };

/** A smooth, deterministic wave in [lo, hi] so charts have shape and tests stay repeatable. */
function wave(t: number, seed: number, lo: number, hi: number): number {
  const x = Math.sin(t / 7 + seed) * 0.6 + Math.sin(t / 3 + seed * 2) * 0.4;
  return lo + ((x + 1) / 2) * (hi - lo);
}

/** Sample number `t` of a host, taken at `timestampMs`. */
export function makeSample(spec: HostSpec, t: number, timestampMs: number, seed = 1): HostSample {
  const cores = spec.cores ?? 8;
  const memTotal = (spec.memoryGib ?? 64) * GIB;
  const unknown = new Set(spec.unknownGpuFields ?? []);
  const gpus: GpuSample[] = (spec.gpus ?? []).map((g, index) => {
    const util = wave(t, seed + index, 20, 98);
    const used = g.memoryMib * wave(t, seed + index + 3, 0.3, 0.9);
    const reading = (field: keyof GpuSample, value: number): number | undefined =>
      unknown.has(field) ? undefined : value;
    return {
      index,
      uuid: `GPU-${spec.id}-${index}`,
      name: g.name,
      utilizationPct: reading('utilizationPct', Math.round(util)),
      memoryUtilizationPct: reading('memoryUtilizationPct', Math.round(util * 0.6)),
      memoryUsedMib: reading('memoryUsedMib', Math.round(used)),
      memoryTotalMib: reading('memoryTotalMib', g.memoryMib),
      temperatureC: reading('temperatureC', Math.round(40 + util * 0.4)),
      powerW: reading('powerW', Math.round(60 + util * 3)),
      powerLimitW: reading('powerLimitW', g.powerLimitW ?? 400),
      smClockMhz: reading('smClockMhz', 1410),
      memoryClockMhz: reading('memoryClockMhz', 1593),
      fanPct: undefined,
      processes: [],
    };
  });
  return {
    timestampMs,
    cpuPct: wave(t, seed, 5, 90),
    cpuPerCorePct: Array.from({ length: cores }, (_, c) => wave(t, seed + c, 0, 100)),
    load1: 3.21,
    load5: 2.9,
    load15: 2.1,
    memoryTotalBytes: memTotal,
    memoryUsedBytes: memTotal * wave(t, seed + 5, 0.3, 0.7),
    swapTotalBytes: 8 * GIB,
    swapUsedBytes: 0,
    disks: [
      { mount: '/', fs: '/dev/nvme0n1p2', type: 'ext4', ...ROOT_DISK },
      { mount: '/data', fs: '/dev/md0', type: 'xfs', sizeBytes: 7450 * GIB, usedBytes: 6100 * GIB },
    ],
    // The agent keeps its data dir on `/`: the room a checkpoint may take there (the controller's disk check).
    dataFreeBytes: ROOT_DISK.sizeBytes - ROOT_DISK.usedBytes,
    diskReadBytesPerSec: 1_200_000,
    diskWriteBytesPerSec: 800_000,
    nets: [],
    netRxBytesPerSec: wave(t, seed + 7, 1e5, 1.2e8),
    netTxBytesPerSec: wave(t, seed + 8, 1e4, 2e7),
    cpuTemperatureC: 55,
    gpus,
  };
}

/** Feeds `count` samples a second apart, the newest at `newestMs`. */
export function feed(fleet: FixtureFleet, spec: HostSpec, count: number, newestMs: number, seed = 1): void {
  for (let t = 0; t < count; t++) fleet.record(spec.id, makeSample(spec, t, newestMs - (count - 1 - t) * 1000, seed));
}

const A100 = { name: 'NVIDIA A100-SXM4-80GB', memoryMib: 81920, powerLimitW: 400 };
const T4 = { name: 'Tesla T4', memoryMib: 15360, powerLimitW: 70 };

export const HOSTS = {
  a100: {
    id: 'srv-a100',
    name: 'gpu-a100-01',
    labels: { gpu: 'a100', zone: 'us-east-1a', rack: 'r12' },
    cores: 16,
    memoryGib: 512,
    gpus: [A100, A100, A100, A100],
  },
  web: {
    id: 'srv-web',
    name: 'cpu-web-02',
    labels: { role: 'web', zone: 'us-east-1b' },
    cores: 8,
    memoryGib: 64,
    state: ServerState.SERVER_STATE_DISCONNECTED,
  },
  t4: {
    id: 'srv-t4',
    name: 'gpu-t4-03',
    labels: { gpu: 't4', zone: 'us-west-2a' },
    cores: 8,
    memoryGib: 128,
    gpus: [T4],
    unknownGpuFields: ['powerW', 'powerLimitW', 'memoryUsedMib'],
  },
} satisfies Record<string, HostSpec>;

/**
 * Three hosts: an online 4xA100 box, a web server that disconnected 42 s ago, and a T4 host
 * whose board answers [N/A] for power and memory used; five workloads on them and three
 * finished migrations (see fixture-workloads.ts).
 */
export function sampleFleet(now = Date.now()): FixtureFleet {
  const fleet = new FixtureFleet();
  for (const spec of Object.values(HOSTS)) fleet.add(makeServer(spec, now));
  feed(fleet, HOSTS.a100, 120, now, 1);
  feed(fleet, HOSTS.web, 60, now - 42_000, 2);
  feed(fleet, HOSTS.t4, 90, now, 3);
  fleet.setState(HOSTS.web.id, ServerState.SERVER_STATE_DISCONNECTED, now - 40_000);
  for (const { workload, checkpointBytes } of sampleWorkloads(now)) fleet.putWorkload(workload, checkpointBytes);
  for (const migration of sampleMigrations(now)) fleet.putMigration(migration);
  return fleet;
}

/** `count` hosts (a quarter of them with 8 GPUs), each with a full minute of history. */
export function largeFleet(count: number, now = Date.now()): FixtureFleet {
  const fleet = new FixtureFleet();
  for (let i = 0; i < count; i++) {
    const id = String(i).padStart(4, '0');
    const spec: HostSpec = {
      id: `srv-${id}`,
      name: `node-${id}`,
      labels: { rack: `r${i % 40}`, gpu: i % 4 === 0 ? 'h100' : 'none' },
      cores: 32,
      gpus:
        i % 4 === 0
          ? Array.from({ length: 8 }, () => ({ name: 'NVIDIA H100 80GB HBM3', memoryMib: 81559, powerLimitW: 700 }))
          : [],
    };
    fleet.add(makeServer(spec, now));
    feed(fleet, spec, 60, now, i);
  }
  return fleet;
}
