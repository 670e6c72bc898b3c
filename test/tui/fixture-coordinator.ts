// The migration coordinator of the fixture fleet, in memory: it ranks the fixture's servers,
// runs the same preflight checks a real coordinator runs, and moves a migration through its
// phases one step per advance() (or on a timer), so a test controls every frame it reads.
import { YardError } from '../../src/core/errors.js';
import type { FleetServer, MigrationActions, MigrationPlan, TargetFit } from '../../src/core/fleet.js';
import { targetScore } from '../../src/core/target-score.js';
import { stateName } from '../../src/core/types.js';
import {
  MigrationPhase as Phase,
  MigrationStrategy,
  migrationDone,
  strategies,
  type Migration,
  type PreflightCheck,
  type Workload,
} from '../../src/core/workload.js';

const GIB = 1024 ** 3;

/** What the coordinator reads and writes of the fleet it lives in. */
export interface CoordinatedFleet {
  list(): readonly FleetServer[];
  get(id: string): FleetServer | undefined;
  workload(name: string): Workload | undefined;
  /** How big the workload's checkpoint archive would be (what its agent would send). */
  checkpointBytes(name: string): number;
  putWorkload(workload: Workload): void;
  putMigration(migration: Migration): void;
  migrations(): readonly Migration[];
  now(): number;
}

/** One step of a running migration: the phase it enters and the simulated time it takes. */
interface Step {
  phase: Phase;
  ms: number;
  /** Bytes moved by the end of this step (transfer steps only). */
  bytes?: number;
}

/** Transfer steps: the archive moves in this many chunks, one per advance(). */
const TRANSFER_CHUNKS = 4;
/** Simulated time each phase takes, so timings are the same on every run. */
const PHASE_MS = { preflight: 300, checkpointing: 1800, chunk: 1500, restoring: 2100, verifying: 900 } as const;

function gib(bytes: number): string {
  return bytes >= 1024 * GIB ? `${(bytes / GIB / 1024).toFixed(1)} TiB` : `${(bytes / GIB).toFixed(1)} GiB`;
}

function largestGpuFreeMib(fs: FleetServer): number | undefined {
  const samples = fs.server.latest?.gpus ?? [];
  const frees = samples.map((g) => (g.memoryTotalMib ?? 0) - (g.memoryUsedMib ?? 0));
  if (frees.length > 0) return Math.max(...frees);
  const declared = fs.server.capabilities?.gpus ?? [];
  return declared.length > 0 ? Math.max(...declared.map((g) => g.memoryTotalMib ?? 0)) : undefined;
}

function largestDiskFree(fs: FleetServer): number {
  const disks = fs.server.latest?.disks ?? [];
  return Math.max(0, ...disks.map((d) => d.sizeBytes - d.usedBytes));
}

export class FixtureCoordinator implements MigrationActions {
  private seq = 0;
  private readonly steps = new Map<string, { steps: Step[]; at: number; clock: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly fleet: CoordinatedFleet) {}

  async planMigration(name: string, target?: string, strategy?: MigrationStrategy): Promise<MigrationPlan> {
    const workload = this.mustWorkload(name);
    const chosen = strategy ?? workload.spec!.strategy;
    const targets = this.fleet.list()
      .filter((fs) => fs.server.id !== workload.serverId)
      .map((fs) => this.fit(workload, fs, chosen))
      .sort((a, b) => Number(b.eligible) - Number(a.eligible) || b.score - a.score);
    const preflight = target === undefined ? [] : this.preflight(workload, this.mustServer(target), chosen);
    return { workload, strategy: chosen, targets, preflight };
  }

  async startMigration(name: string, target: string, strategy: MigrationStrategy): Promise<Migration> {
    const workload = this.mustWorkload(name);
    const checks = this.preflight(workload, this.mustServer(target), strategy);
    const failed = checks.filter((c) => !c.ok);
    if (failed.length > 0) {
      throw new YardError('FAILED_PRECONDITION', `cannot migrate ${name}: ${failed.map((c) => `${c.name}: ${c.reason}`).join('; ')}`);
    }
    const now = this.fleet.now();
    this.seq++;
    const id = `${this.seq.toString(16).padStart(8, '0')}-7c1e-4b7a-9e1f-3d2a5b6c7d8e`;
    const bytesTotal = strategy === MigrationStrategy.MIGRATION_STRATEGY_RESTART ? 0 : this.fleet.checkpointBytes(name);
    const migration: Migration = {
      id,
      workload: name,
      sourceServerId: workload.serverId,
      targetServerId: target,
      strategy,
      phase: Phase.MIGRATION_PHASE_PLANNED,
      requestedBy: 'operator',
      createdMs: now,
      updatedMs: now,
      finishedMs: 0,
      preflight: checks,
      timings: { transferBytes: 0 },
      bytesDone: 0,
      bytesTotal,
      checkpointSha256: '',
      error: '',
    };
    this.steps.set(id, { steps: this.plannedSteps(bytesTotal), at: 0, clock: now });
    this.fleet.putMigration(migration);
    return migration;
  }

  async cancelMigration(id: string): Promise<Migration> {
    const m = this.mustMigration(id);
    if (migrationDone(m.phase)) {
      throw new YardError('FAILED_PRECONDITION', `migration ${id.slice(0, 8)} already ended (${m.phase === Phase.MIGRATION_PHASE_COMMITTED ? 'committed' : 'rolled back or failed'}): nothing to cancel`);
    }
    return this.finish(m, Phase.MIGRATION_PHASE_ROLLED_BACK, 'cancelled by operator; the workload keeps running on its source');
  }

  /** Moves a live migration one step on; returns it as it is now. */
  advance(id: string): Migration {
    const m = this.mustMigration(id);
    const run = this.steps.get(id);
    if (!run || migrationDone(m.phase)) return m;
    const step = run.steps[run.at++];
    if (!step) return m;
    run.clock += step.ms;
    const timings = { transferBytes: 0, ...m.timings, ...this.timingsAt(m, step.phase) };
    const next: Migration = { ...m, phase: step.phase, updatedMs: run.clock, timings, bytesDone: step.bytes ?? m.bytesDone };
    if (step.phase === Phase.MIGRATION_PHASE_COMMITTED) return this.commit(next);
    this.fleet.putMigration(next);
    return next;
  }

  /** Runs a live migration to its end. */
  complete(id: string): Migration {
    let m = this.mustMigration(id);
    while (!migrationDone(m.phase)) m = this.advance(id);
    return m;
  }

  /** Fails a live migration with `error`, as a real one fails when an agent goes away. */
  fail(id: string, error: string): Migration {
    return this.finish(this.mustMigration(id), Phase.MIGRATION_PHASE_FAILED, error);
  }

  /** Advances every live migration every `ms` (for looking at the dashboard by hand). */
  autoAdvance(ms: number): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      for (const m of this.fleet.migrations()) if (!migrationDone(m.phase)) this.advance(m.id);
    }, ms);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Each step enters its phase once the one before has taken its `ms`. */
  private plannedSteps(bytesTotal: number): Step[] {
    if (bytesTotal === 0) {
      return [
        { phase: Phase.MIGRATION_PHASE_PREFLIGHT, ms: 0 },
        { phase: Phase.MIGRATION_PHASE_RESTORING, ms: PHASE_MS.preflight },
        { phase: Phase.MIGRATION_PHASE_VERIFYING, ms: PHASE_MS.restoring },
        { phase: Phase.MIGRATION_PHASE_COMMITTED, ms: PHASE_MS.verifying },
      ];
    }
    const chunks = Array.from({ length: TRANSFER_CHUNKS }, (_, i): Step => ({
      phase: Phase.MIGRATION_PHASE_TRANSFERRING,
      ms: i === 0 ? PHASE_MS.checkpointing : PHASE_MS.chunk,
      bytes: (bytesTotal * i) / TRANSFER_CHUNKS,
    }));
    return [
      { phase: Phase.MIGRATION_PHASE_PREFLIGHT, ms: 0 },
      { phase: Phase.MIGRATION_PHASE_CHECKPOINTING, ms: PHASE_MS.preflight },
      ...chunks,
      { phase: Phase.MIGRATION_PHASE_RESTORING, ms: PHASE_MS.chunk, bytes: bytesTotal },
      { phase: Phase.MIGRATION_PHASE_VERIFYING, ms: PHASE_MS.restoring },
      { phase: Phase.MIGRATION_PHASE_COMMITTED, ms: PHASE_MS.verifying },
    ];
  }

  /** The timings known once `phase` has begun: each phase's time is written as it ends. */
  private timingsAt(m: Migration, phase: Phase): Partial<NonNullable<Migration['timings']>> {
    const moved = m.bytesTotal > 0;
    const transferMs = PHASE_MS.chunk * TRANSFER_CHUNKS;
    switch (phase) {
      case Phase.MIGRATION_PHASE_TRANSFERRING:
        return { checkpointMs: PHASE_MS.checkpointing };
      case Phase.MIGRATION_PHASE_RESTORING:
        return moved ? { transferMs, transferBytes: m.bytesTotal } : {};
      case Phase.MIGRATION_PHASE_VERIFYING:
        return { restoreMs: PHASE_MS.restoring };
      case Phase.MIGRATION_PHASE_COMMITTED:
        // Stateless moves start the target before stopping the source: no downtime.
        return { verifyMs: PHASE_MS.verifying, downtimeMs: moved ? PHASE_MS.checkpointing + transferMs + PHASE_MS.restoring : 0 };
      default:
        return {};
    }
  }

  private commit(m: Migration): Migration {
    const done: Migration = { ...m, finishedMs: m.updatedMs, checkpointSha256: m.bytesTotal > 0 ? 'b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c' : '' };
    const w = this.fleet.workload(m.workload);
    if (w) this.fleet.putWorkload({ ...w, serverId: m.targetServerId, startedMs: m.updatedMs, restored: m.bytesTotal > 0, pid: w.pid + 1000, message: `migrated from ${this.nameOf(m.sourceServerId)}` });
    this.fleet.putMigration(done);
    return done;
  }

  private finish(m: Migration, phase: Phase, error: string): Migration {
    const now = Math.max(this.fleet.now(), m.updatedMs);
    const done: Migration = { ...m, phase, error, updatedMs: now, finishedMs: now };
    this.steps.delete(m.id);
    this.fleet.putMigration(done);
    return done;
  }

  private fit(workload: Workload, fs: FleetServer, strategy: MigrationStrategy): TargetFit {
    const blockers = this.blockers(workload, fs, strategy);
    const latest = fs.server.latest;
    const cpu = latest?.cpuPct ?? 100;
    const mem = latest && latest.memoryTotalBytes > 0 ? (latest.memoryUsedBytes / latest.memoryTotalBytes) * 100 : 100;
    const gpuFree = largestGpuFreeMib(fs);
    const notes = [`cpu ${Math.round(cpu)}%`, `mem ${Math.round(mem)}%`, ...(gpuFree === undefined ? [] : [`GPU ${gib(gpuFree * 1024 * 1024)} free`])];
    // The controller's own score, so the wizard shows the number `yard migrate --dry-run` would.
    const score = targetScore(fs.server);
    return { serverId: fs.server.id, name: fs.server.name, eligible: blockers.length === 0, score: blockers.length === 0 ? score : 0, reasons: blockers.length > 0 ? blockers : notes };
  }

  /** What makes a host unable to take the workload at all (the ranking's coarse checks). */
  private blockers(workload: Workload, fs: FleetServer, strategy: MigrationStrategy): string[] {
    return this.checks(workload, fs, strategy).filter((c) => !c.ok && c.name !== 'disk' && c.name !== 'cpu').map((c) => c.reason);
  }

  private preflight(workload: Workload, fs: FleetServer, strategy: MigrationStrategy): PreflightCheck[] {
    return this.checks(workload, fs, strategy);
  }

  private checks(workload: Workload, fs: FleetServer, strategy: MigrationStrategy): PreflightCheck[] {
    const { server } = fs;
    const state = stateName(server.state);
    const strategyName = strategies.name(strategy);
    const supported = server.capabilities?.migrationStrategies.includes(strategyName) ?? false;
    const needBytes = strategy === MigrationStrategy.MIGRATION_STRATEGY_RESTART ? 0 : this.fleet.checkpointBytes(workload.spec!.name);
    const diskFree = largestDiskFree(fs);
    const needMib = workload.gpuMemoryMib ?? 0;
    const gpuFree = largestGpuFreeMib(fs);
    const cpu = server.latest?.cpuPct;
    const live = this.fleet.migrations().find((m) => m.workload === workload.spec!.name && !migrationDone(m.phase));
    return [
      { name: 'target-online', ok: state === 'online', reason: state === 'online' ? `${server.name} is online` : `${server.name} is ${state}` },
      { name: 'strategy', ok: supported, reason: supported ? `${strategyName} supported` : `${server.name} does not support ${strategyName}` },
      { name: 'disk', ok: diskFree >= needBytes, reason: needBytes === 0 ? 'no checkpoint to store' : `${gib(diskFree)} free, checkpoint needs ${gib(needBytes)}` },
      {
        name: 'gpu-memory',
        ok: needMib === 0 || (gpuFree ?? 0) >= needMib,
        reason: needMib === 0 ? 'no GPU needed' : gpuFree === undefined ? `needs ${gib(needMib * 1024 * 1024)} GPU memory, ${server.name} has no GPU` : `needs ${gib(needMib * 1024 * 1024)} GPU memory, largest free ${gib(gpuFree * 1024 * 1024)}`,
      },
      { name: 'cpu', ok: cpu !== undefined && cpu < 95, reason: cpu === undefined ? 'no CPU reading' : `${Math.round(cpu)}% busy` },
      { name: 'exclusive', ok: live === undefined, reason: live ? `migration ${live.id.slice(0, 8)} of ${live.workload} is in flight` : 'no other migration of it in flight' },
    ];
  }

  private nameOf(id: string): string {
    return this.fleet.get(id)?.server.name ?? id;
  }

  private mustWorkload(name: string): Workload {
    const w = this.fleet.workload(name);
    if (!w) throw new YardError('NOT_FOUND', `no workload named "${name}": yard workloads lists them`);
    return w;
  }

  private mustServer(id: string): FleetServer {
    const fs = this.fleet.get(id);
    if (!fs) throw new YardError('NOT_FOUND', `no server "${id}" in the fleet`);
    return fs;
  }

  private mustMigration(id: string): Migration {
    const m = this.fleet.migrations().find((x) => x.id === id);
    if (!m) throw new YardError('NOT_FOUND', `no migration ${id}`);
    return m;
  }
}
