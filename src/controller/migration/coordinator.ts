import { EventEmitter } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { MigrationPlan } from '../../core/fleet.js';
import { YardError, errorMessage } from '../../core/errors.js';
import { isLive } from '../../core/format/words.js';
import type { Logger } from '../../core/log.js';
import {
  MigrationPhase as P,
  MigrationStrategy as S,
  migrationDone,
  migrationPhases,
  strategies,
  type Migration,
  type Workload,
} from '../../core/workload.js';
import type { AgentLinks } from '../agent-links.js';
import type { CheckpointStore } from '../checkpoints.js';
import type { Registry } from '../registry.js';
import type { Store } from '../store.js';
import type { WorkloadTable } from '../workloads.js';
import { Agents } from './agents.js';
import { checkpoint } from './checkpoint.js';
import { freeze } from './freeze.js';
import { Journal } from './journal.js';
import type { CheckpointMover } from './mover.js';
import { placed, type PlacedWorkload } from './placed.js';
import { preflight, rankTargets } from './preflight.js';
import type { AgentAction } from '../agent-links.js';
import { ControllerRelay } from './relay.js';
import { DirectMover } from './direct.js';
import { restart } from './restart.js';
import { Run, trafficOf } from './run.js';
import { Cancelled, NoCheckpoint, NothingChanged, type Strategy } from './strategy.js';
import type { TrafficHooks } from './traffic.js';

export interface CoordinatorOptions {
  registry: Registry;
  workloads: WorkloadTable;
  links: AgentLinks;
  checkpoints: CheckpointStore;
  store: Store;
  log: Logger;
  /** Largest checkpoint archive accepted. */
  maxCheckpointBytes: number;
  /** How long a restored workload must keep running before the move is committed. */
  verifyMs: number;
  /** How long to wait for an agent that is needed to finish or roll back. */
  agentWaitMs: number;
  /** Preflight: a target busier than this (CPU %) is not eligible. */
  cpuLimitPct: number;
  /** Routes that follow a workload when it moves (absent: no routing). */
  traffic?: TrafficHooks;
  /** How a checkpoint moves between hosts (absent: relayed through the controller's checkpoint store). */
  mover?: CheckpointMover;
}

/** After a controller restart, how long the target may take to come back (its answer decides commit or rollback). */
const TARGET_RETURN_MS = 3000;

function strategyOf(s: S): Strategy {
  if (s === S.MIGRATION_STRATEGY_RESTART) return restart;
  return s === S.MIGRATION_STRATEGY_FREEZE ? freeze : checkpoint;
}

/**
 * Moves workloads between hosts. Each migration is a journaled state machine: a phase is
 * written to the store before it acts, so a controller that restarts mid-way finishes or rolls
 * back by itself. Whatever happens, the workload ends on exactly one host. How it moves is its
 * strategy's (checkpoint.ts, freeze.ts, restart.ts); the commit and the rollback are decided here.
 */
export class Coordinator extends EventEmitter<{ migration: [Migration] }> {
  private readonly journal: Journal;
  private readonly agents: Agents;
  private readonly mover: CheckpointMover;
  /** Migrations this controller runs, each with its operator's cancel. */
  private readonly cancels = new Map<string, AbortController>();
  /** Workloads whose stray copy is being checked or removed (one check at a time each). */
  private readonly reconciling = new Set<string>();

  constructor(private readonly o: CoordinatorOptions) {
    super();
    this.setMaxListeners(0);
    this.journal = new Journal(o.store, (m) => this.emit('migration', m));
    this.agents = new Agents(o.links, o.registry);
    const send = (id: string, action: AgentAction, timeoutMs: number, onProgress?: (bytesDone: number) => void) =>
      this.agents.send(id, action, timeoutMs, onProgress);
    this.mover =
      o.mover ??
      new DirectMover({
        relay: new ControllerRelay(o.checkpoints, send),
        send,
        registry: o.registry,
        log: o.log,
        connected: (id) => this.agents.connected(id),
      });
    o.workloads.on('workload', (w) => this.reconcile(w));
  }

  list(): Migration[] {
    return this.journal.list();
  }

  /** Another controller wrote this migration (a shared store): watchers here see it. */
  heard(id: string): void {
    const m = this.journal.find(id);
    if (m?.id === id) this.emit('migration', m);
  }

  get(id: string): Migration {
    const m = this.journal.find(id);
    if (!m) throw new YardError('NOT_FOUND', `no migration "${id}": \`yard migrations\` lists them`);
    return m;
  }

  private serverNamed(idOrName: string) {
    return this.o.registry.get(idOrName)?.server;
  }

  plan(workloadName: string, target?: string, strategy?: S): MigrationPlan {
    return this.planned(workloadName, target, strategy).plan;
  }

  private planned(
    workloadName: string,
    target: string | undefined,
    strategy: S | undefined,
  ): { plan: MigrationPlan; workload: PlacedWorkload } {
    const workload = placed(this.o.workloads.find(workloadName));
    if (!isLive(workload))
      throw new YardError(
        'FAILED_PRECONDITION',
        `workload ${workloadName} is not running (${workload.message || 'exited'}): nothing to migrate`,
      );
    const source = this.serverNamed(workload.serverId);
    if (!source) throw new YardError('NOT_FOUND', `the server of ${workloadName} is unknown`);
    const strat = strategy || workload.spec.strategy || S.MIGRATION_STRATEGY_CHECKPOINT;
    const inFlight = this.journal.inFlight(workloadName)?.id;
    const targets = rankTargets(this.o.registry, workload, source, strat, this.o.cpuLimitPct, inFlight);
    const checks = target
      ? preflight({
          workload,
          source,
          target: this.serverNamed(target),
          targetName: target,
          strategy: strat,
          inFlight,
          cpuLimitPct: this.o.cpuLimitPct,
        })
      : [];
    return { plan: { workload, strategy: strat, targets, preflight: checks }, workload };
  }

  /** Plans, checks and starts a migration; it runs on in the background. */
  async start(
    workloadName: string,
    target: string,
    strategy: S | undefined,
    requestedBy: string,
    opts: { precopy?: boolean } = {},
  ): Promise<Migration> {
    const { plan, workload } = this.planned(workloadName, target, strategy);
    const failed = plan.preflight.filter((c) => !c.ok);
    if (failed.length)
      throw new YardError('FAILED_PRECONDITION', `preflight failed: ${failed.map((c) => c.reason).join('; ')}`, {
        checks: failed.map((c) => c.name).join(','),
      });
    const targetServer = this.serverNamed(target);
    if (!targetServer) throw new YardError('NOT_FOUND', `no server "${target}"`);
    const m = this.journal.begin({
      workload: workloadName,
      sourceServerId: workload.serverId,
      targetServerId: targetServer.id,
      strategy: plan.strategy,
      requestedBy,
      preflight: plan.preflight,
    });
    const cancel = new AbortController();
    this.cancels.set(m.id, cancel);
    await this.journal.phase(m, P.MIGRATION_PHASE_PREFLIGHT);
    this.o.log.info('migration started', {
      id: m.id,
      workload: m.workload,
      from: this.agents.nameOf(m.sourceServerId),
      to: this.agents.nameOf(m.targetServerId),
      strategy: strategies.name(m.strategy),
      by: requestedBy,
    });
    void this.run(new Run(this.runParts(), m, workload, cancel.signal, opts.precopy));
    return m;
  }

  cancel(id: string): Migration {
    const m = this.get(id);
    if (migrationDone(m.phase))
      throw new YardError('FAILED_PRECONDITION', `migration ${m.id} already ended (${migrationPhases.name(m.phase)})`);
    this.cancels.get(m.id)?.abort(new Cancelled('cancelled by an operator'));
    this.o.log.info('migration cancel requested', { id: m.id });
    return m;
  }

  /** After a controller restart: finish or roll back whatever the journal left in flight. */
  resume(): void {
    for (const m of this.journal.interrupted()) {
      this.o.log.warn('resuming an interrupted migration', {
        id: m.id,
        workload: m.workload,
        phase: migrationPhases.name(m.phase),
      });
      void this.recover(m);
    }
  }

  private runParts() {
    const { workloads, traffic, maxCheckpointBytes, verifyMs, log } = this.o;
    return {
      journal: this.journal,
      agents: this.agents,
      mover: this.mover,
      workloads,
      traffic,
      maxCheckpointBytes,
      verifyMs,
      log,
    };
  }

  private async run(run: Run): Promise<void> {
    const { m } = run;
    try {
      run.signal.throwIfAborted();
      await strategyOf(m.strategy).move(run);
      await this.commit(m);
    } catch (err) {
      if (err instanceof NothingChanged) {
        await this.finish(m, P.MIGRATION_PHASE_FAILED, err.message);
      } else {
        await this.rollback(m, errorMessage(err), !(err instanceof NoCheckpoint)).catch((e: unknown) =>
          this.finish(m, P.MIGRATION_PHASE_FAILED, errorMessage(e)).catch(() => undefined),
        );
      }
    }
  }

  private async commit(m: Migration): Promise<void> {
    // The target's copy becomes its own for good (and starts again from the checkpoint if its
    // agent restarted since the verify), before the source lets go.
    const { movesState } = strategyOf(m.strategy);
    await this.retry(m, m.targetServerId, 'keep the target running', () =>
      this.agents.send(m.targetServerId, { $case: 'ensure', value: { name: m.workload, restore: movesState } }),
    );
    await this.retry(m, m.sourceServerId, 'stop the source', () =>
      this.agents
        .send(m.sourceServerId, { $case: 'stop', value: { name: m.workload, remove: true, kill: movesState } })
        .catch((err: unknown) => {
          // Already gone: a commit cut short by a controller restart removed it.
          if (!(err instanceof YardError && err.code === 'NOT_FOUND')) throw err;
        }),
    ).catch((err: unknown) => {
      // It runs on the target now; what the source holds is a stopped copy, removed by
      // reconcile() when its agent is back.
      this.o.log.warn('committed with the source away: its stopped copy goes when it returns', {
        id: m.id,
        workload: m.workload,
        error: errorMessage(err),
      });
    });
    await this.mover.discard(m);
    await this.finish(m, P.MIGRATION_PHASE_COMMITTED, '');
  }

  /** Back to the source. `fromCheckpoint`: its state dir holds the checkpoint to restore from. */
  private async rollback(m: Migration, why: string, fromCheckpoint = true): Promise<void> {
    this.o.log.warn('migration rolling back', { id: m.id, workload: m.workload, why });
    await this.journal.phase(m, P.MIGRATION_PHASE_ROLLING_BACK, { error: why });
    const strategy = strategyOf(m.strategy);
    const traffic = trafficOf(this.o.traffic, this.o.workloads, m.workload);
    if (traffic)
      await strategy.trafficOffTarget(traffic, m).catch((err: unknown) =>
        this.o.log.warn('could not move traffic off the target before rolling back', {
          id: m.id,
          error: errorMessage(err),
        }),
      );
    // Never two at once: the target's copy goes first (it may not exist; an agent that is away
    // is handled by reconcile() when it comes back).
    if (this.agents.connected(m.targetServerId)) {
      await this.agents
        .send(m.targetServerId, { $case: 'stop', value: { name: m.workload, remove: true, kill: true } })
        .catch(() => undefined);
    }
    // The source agent decides from its own state, never from our snapshot of it (which can
    // trail a checkpoint that just finished): running stays, frozen resumes, checkpointed
    // starts again from the same checkpoint, which is its state dir.
    const restore = fromCheckpoint && strategy.movesState;
    await this.retry(m, m.sourceServerId, 'restore the source', () =>
      this.agents.send(m.sourceServerId, { $case: 'ensure', value: { name: m.workload, restore } }),
    );
    await this.mover.discard(m);
    await this.finish(m, P.MIGRATION_PHASE_ROLLED_BACK, why);
  }

  /**
   * Steps of a rollback or commit must happen: tried again until agentWaitMs has passed. An agent
   * that is away is waited for (its return wakes the retry); one that refused gets a growing pause.
   */
  private async retry(m: Migration, serverId: string, what: string, step: () => Promise<unknown>): Promise<void> {
    const deadline = Date.now() + this.o.agentWaitMs;
    for (let pause = 250; ; pause = Math.min(pause * 2, 5000)) {
      try {
        await step();
        return;
      } catch (err) {
        const left = deadline - Date.now();
        if (left < 0)
          throw new YardError('UNAVAILABLE', `could not ${what} for migration ${m.id}: ${errorMessage(err)}`);
        if (this.agents.connected(serverId)) await delay(Math.min(pause, left));
        else await this.agents.reachable(serverId, left);
      }
    }
  }

  private async finish(m: Migration, phase: P, error: string): Promise<void> {
    // Whatever the outcome, routes resolve again to wherever the workload now runs.
    const traffic = trafficOf(this.o.traffic, this.o.workloads, m.workload);
    if (traffic) {
      await traffic.settled(phase === P.MIGRATION_PHASE_COMMITTED ? m.targetServerId : m.sourceServerId);
      await traffic.release().catch((err: unknown) =>
        this.o.log.warn('could not release the routes of a migrated workload', {
          id: m.id,
          workload: m.workload,
          error: errorMessage(err),
        }),
      );
    }
    this.cancels.delete(m.id);
    await this.journal.phase(m, phase, { error });
    this.o.log.info(`migration ${migrationPhases.name(phase)}`, {
      id: m.id,
      workload: m.workload,
      error: error || undefined,
      downtimeMs: m.timings?.downtimeMs,
    });
  }

  private async recover(m: Migration): Promise<void> {
    if (m.phase === P.MIGRATION_PHASE_PLANNED || m.phase === P.MIGRATION_PHASE_PREFLIGHT) {
      await this.finish(
        m,
        P.MIGRATION_PHASE_FAILED,
        'the controller restarted before the migration acted; nothing changed',
      ).catch(() => undefined);
      return;
    }
    let why = `the controller restarted during ${migrationPhases.name(m.phase)}`;
    try {
      const deadline = Date.now() + this.o.agentWaitMs;
      await this.agents.reachable(m.sourceServerId, this.o.agentWaitMs);
      await this.agents.reachable(m.targetServerId, Math.max(0, Math.min(deadline - Date.now(), TARGET_RETURN_MS)));
      // The journal says how far it got; the target agent itself says whether it runs there.
      if (m.phase === P.MIGRATION_PHASE_VERIFYING && (await this.agents.runsOn(m.targetServerId, m.workload))) {
        await this.commit(m);
        return;
      }
    } catch (err) {
      why = `${why}, and the commit failed: ${errorMessage(err)}`;
    }
    await this.rollback(m, why).catch((err: unknown) =>
      this.finish(m, P.MIGRATION_PHASE_FAILED, errorMessage(err)).catch(() => undefined),
    );
  }

  /**
   * Invariant: one host. A copy that shows up where a finished migration says it must not be
   * (an agent that was away during a rollback, or during a commit) is stopped and removed —
   * once the host where it belongs answers, itself, that it runs it there. Checked when either
   * host reports, as either may be the last to come back.
   */
  private reconcile(reported: Workload): void {
    const w = placed(reported);
    const name = w.spec.name;
    if (this.journal.inFlight(name) || this.reconciling.has(name)) return;
    const last = this.o.store.migrations().find((m) => m.workload === name);
    if (!last || !migrationDone(last.phase)) return;
    const committed = last.phase === P.MIGRATION_PHASE_COMMITTED;
    const home = committed ? last.targetServerId : last.sourceServerId;
    const away = committed ? last.sourceServerId : last.targetServerId;
    if ((w.serverId !== home && w.serverId !== away) || !this.o.workloads.at(away, name)) return;
    this.reconciling.add(name);
    void this.agents
      .runsOn(home, name)
      .then(async (runs) => {
        if (!runs || this.journal.inFlight(name)) return;
        this.o.log.warn('removing a stray copy left by a migration', {
          workload: name,
          server: this.agents.nameOf(away),
          migration: last.id,
        });
        await this.agents
          .send(away, { $case: 'stop', value: { name, remove: true, kill: true } })
          .catch(() => undefined);
      })
      .finally(() => this.reconciling.delete(name));
  }
}
