// The migration coordinator of the fixture fleet, in memory: it ranks the fixture's servers and
// checks a move with the controller's own preflight and ranking (controller/migration/preflight.ts),
// and moves a migration through its phases one step per advance() (or on a timer), so a test
// controls every frame it reads.
import { preflight, rankTargets } from '../../src/controller/migration/preflight.js';
import { Registry } from '../../src/controller/registry.js';
import { YardError } from '../../src/core/errors.js';
import type { FleetServer, MigrationActions, MigrationPlan } from '../../src/core/fleet.js';
import type { Server } from '../../src/core/types.js';
import {
  noTimings,
  MigrationPhase as Phase,
  MigrationStrategy,
  migrationDone,
  type Migration,
  type MigrationTimings,
  type PreflightCheck,
  type Workload,
  type WorkloadSpec,
} from '../../src/core/workload.js';

/** The controller's default --cpu-limit: a target busier than this has no headroom. */
const CPU_LIMIT_PCT = 90;

/** A workload with its spec, as the coordinator takes it in. */
type PlacedWorkload = Workload & { spec: WorkloadSpec };

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
  /** What the bytes are out of from this step on (a pre-copy round: the state dir; after it: what changed). */
  total?: number;
  /** Timings this step writes, over the ones every migration writes (timingsAt). */
  timings?: Partial<MigrationTimings>;
}

/** Transfer steps: the archive moves in this many chunks, one per advance(). */
const TRANSFER_CHUNKS = 4;
/**
 * Pre-copy: what each round moves, as a share of the state dir (all of it, then what changed
 * meanwhile); each round goes through the whole state dir in two steps (bytesDone of bytesTotal,
 * the state dir's size). After the save, what changed since the last round moves.
 */
const PRECOPY_ROUNDS = [1, 1 / 8] as const;
const PRECOPY_CHANGED = 1 / 32;
/** Simulated time each phase takes, so timings are the same on every run. */
const PHASE_MS = { preflight: 300, checkpointing: 1800, chunk: 1500, restoring: 2100, verifying: 900 } as const;

export class FixtureCoordinator implements MigrationActions {
  private seq = 0;
  private readonly steps = new Map<string, { steps: Step[]; at: number; clock: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly fleet: CoordinatedFleet) {}

  async planMigration(name: string, target?: string, strategy?: MigrationStrategy): Promise<MigrationPlan> {
    const { workload, source, chosen, inFlight } = this.move(name, strategy);
    const targets = rankTargets(this.registry(), workload, source, chosen, CPU_LIMIT_PCT, inFlight);
    const checks = target === undefined ? [] : this.preflight(workload, source, target, chosen, inFlight);
    return { workload, strategy: chosen, targets, preflight: checks };
  }

  /** Pre-copies only when asked to: the fixture's workloads would all be over the controller's threshold. */
  async startMigration(
    name: string,
    target: string,
    strategy: MigrationStrategy,
    opts: { precopy?: boolean } = {},
  ): Promise<Migration> {
    const { workload, source, inFlight } = this.move(name, strategy);
    const checks = this.preflight(workload, source, target, strategy, inFlight);
    const failed = checks.filter((c) => !c.ok);
    if (failed.length > 0) {
      throw new YardError('FAILED_PRECONDITION', `preflight failed: ${failed.map((c) => c.reason).join('; ')}`, {
        checks: failed.map((c) => c.name).join(','),
      });
    }
    const now = this.fleet.now();
    this.seq++;
    const id = `${this.seq.toString(16).padStart(8, '0')}-7c1e-4b7a-9e1f-3d2a5b6c7d8e`;
    const bytesTotal = strategy === MigrationStrategy.MIGRATION_STRATEGY_RESTART ? 0 : this.fleet.checkpointBytes(name);
    const precopy =
      opts.precopy === true && strategy === MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT && bytesTotal > 0;
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
      timings: noTimings(),
      bytesDone: 0,
      bytesTotal,
      checkpointSha256: '',
      precopy,
      error: '',
      transferPath: '',
    };
    const steps = precopy ? this.precopySteps(bytesTotal) : this.plannedSteps(bytesTotal);
    this.steps.set(id, { steps, at: 0, clock: now });
    this.fleet.putMigration(migration);
    return migration;
  }

  async cancelMigration(id: string): Promise<Migration> {
    const m = this.mustMigration(id);
    if (migrationDone(m.phase)) {
      throw new YardError(
        'FAILED_PRECONDITION',
        `migration ${id.slice(0, 8)} already ended (${m.phase === Phase.MIGRATION_PHASE_COMMITTED ? 'committed' : 'rolled back or failed'}): nothing to cancel`,
      );
    }
    return this.finish(
      m,
      Phase.MIGRATION_PHASE_ROLLED_BACK,
      'cancelled by operator; the workload keeps running on its source',
    );
  }

  /** Moves a live migration one step on; returns it as it is now. */
  advance(id: string): Migration {
    const m = this.mustMigration(id);
    const run = this.steps.get(id);
    if (!run || migrationDone(m.phase)) return m;
    const step = run.steps[run.at++];
    if (!step) return m;
    run.clock += step.ms;
    const timings = { ...noTimings(), ...m.timings, ...this.timingsAt(m, step.phase), ...step.timings };
    const next: Migration = {
      ...m,
      phase: step.phase,
      updatedMs: run.clock,
      timings,
      bytesDone: step.bytes ?? m.bytesDone,
      bytesTotal: step.total ?? m.bytesTotal,
      // Agent to agent, as between two agents that reach each other.
      transferPath: step.phase === Phase.MIGRATION_PHASE_RESTORING && m.bytesTotal > 0 ? 'direct' : m.transferPath,
    };
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
    const chunks = Array.from(
      { length: TRANSFER_CHUNKS },
      (_, i): Step => ({
        phase: Phase.MIGRATION_PHASE_TRANSFERRING,
        ms: i === 0 ? PHASE_MS.checkpointing : PHASE_MS.chunk,
        bytes: (bytesTotal * i) / TRANSFER_CHUNKS,
      }),
    );
    return [
      { phase: Phase.MIGRATION_PHASE_PREFLIGHT, ms: 0 },
      { phase: Phase.MIGRATION_PHASE_CHECKPOINTING, ms: PHASE_MS.preflight },
      ...chunks,
      { phase: Phase.MIGRATION_PHASE_RESTORING, ms: PHASE_MS.chunk, bytes: bytesTotal },
      { phase: Phase.MIGRATION_PHASE_VERIFYING, ms: PHASE_MS.restoring },
      { phase: Phase.MIGRATION_PHASE_COMMITTED, ms: PHASE_MS.verifying },
    ];
  }

  /**
   * With pre-copy: the rounds while it runs (each counted in the record once done), then the
   * save and the move of what changed since the last round.
   */
  private precopySteps(state: number): Step[] {
    const steps: Step[] = [{ phase: Phase.MIGRATION_PHASE_PREFLIGHT, ms: 0 }];
    let moved = 0;
    PRECOPY_ROUNDS.forEach((share, done) => {
      const timings = { precopyRounds: done, precopyBytes: moved };
      const ms = done === 0 ? PHASE_MS.preflight : 0;
      steps.push(
        { phase: Phase.MIGRATION_PHASE_PRECOPYING, ms, bytes: 0, total: state, timings },
        { phase: Phase.MIGRATION_PHASE_PRECOPYING, ms: PHASE_MS.chunk, bytes: state / 2 },
        { phase: Phase.MIGRATION_PHASE_PRECOPYING, ms: PHASE_MS.chunk, bytes: state },
      );
      moved += state * share;
    });
    const precopyMs = PHASE_MS.chunk * 2 * PRECOPY_ROUNDS.length;
    const changed = state * PRECOPY_CHANGED;
    const transferMs = PHASE_MS.chunk * 2;
    const precopied = { precopyMs, precopyRounds: PRECOPY_ROUNDS.length, precopyBytes: moved };
    steps.push(
      { phase: Phase.MIGRATION_PHASE_CHECKPOINTING, ms: 0, bytes: 0, total: changed, timings: precopied },
      { phase: Phase.MIGRATION_PHASE_TRANSFERRING, ms: PHASE_MS.checkpointing, bytes: 0 },
      { phase: Phase.MIGRATION_PHASE_TRANSFERRING, ms: PHASE_MS.chunk, bytes: changed / 2 },
      {
        phase: Phase.MIGRATION_PHASE_RESTORING,
        ms: PHASE_MS.chunk,
        bytes: changed,
        timings: { transferMs, transferBytes: changed, bytesSaved: state - changed },
      },
      { phase: Phase.MIGRATION_PHASE_VERIFYING, ms: PHASE_MS.restoring },
      {
        phase: Phase.MIGRATION_PHASE_COMMITTED,
        ms: PHASE_MS.verifying,
        timings: { downtimeMs: PHASE_MS.checkpointing + transferMs + PHASE_MS.restoring },
      },
    );
    return steps;
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
        return {
          verifyMs: PHASE_MS.verifying,
          downtimeMs: moved ? PHASE_MS.checkpointing + transferMs + PHASE_MS.restoring : 0,
        };
      default:
        return {};
    }
  }

  private commit(m: Migration): Migration {
    const done: Migration = {
      ...m,
      finishedMs: m.updatedMs,
      checkpointSha256: m.bytesTotal > 0 ? 'b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c' : '',
    };
    const w = this.fleet.workload(m.workload);
    if (w)
      this.fleet.putWorkload({
        ...w,
        serverId: m.targetServerId,
        startedMs: m.updatedMs,
        restored: m.bytesTotal > 0,
        pid: w.pid + 1000,
        message: `migrated from ${this.nameOf(m.sourceServerId)}`,
      });
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

  /** What a plan starts from, as the controller's coordinator reads it. */
  private move(
    name: string,
    strategy: MigrationStrategy | undefined,
  ): { workload: PlacedWorkload; source: Server; chosen: MigrationStrategy; inFlight?: string } {
    const workload = this.mustWorkload(name);
    const source = this.mustServer(workload.serverId).server;
    const chosen = strategy || workload.spec.strategy || MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT;
    const inFlight = this.fleet.migrations().find((m) => m.workload === name && !migrationDone(m.phase))?.id;
    return { workload, source, chosen, inFlight };
  }

  private preflight(
    workload: PlacedWorkload,
    source: Server,
    target: string,
    strategy: MigrationStrategy,
    inFlight: string | undefined,
  ): PreflightCheck[] {
    return preflight({
      workload,
      source,
      target: this.fleet.get(target)?.server,
      targetName: target,
      strategy,
      inFlight,
      cpuLimitPct: CPU_LIMIT_PCT,
    });
  }

  /** The controller's ranking reads a Registry: one holding the fixture's servers as they are now. */
  private registry(): Registry {
    const registry = new Registry({ heartbeatTtlMs: 0, graceMs: 0 });
    for (const { server } of this.fleet.list()) {
      registry.restore(server);
      registry.get(server.id)!.server = server;
    }
    return registry;
  }

  private nameOf(id: string): string {
    return this.fleet.get(id)?.server.name ?? id;
  }

  private mustWorkload(name: string): PlacedWorkload {
    const w = this.fleet.workload(name);
    if (!w?.spec) throw new YardError('NOT_FOUND', `no workload named "${name}": yard workloads lists them`);
    return { ...w, spec: w.spec };
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
