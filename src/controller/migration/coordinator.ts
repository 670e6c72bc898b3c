import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { MigrationPlan } from '../../core/fleet.js';
import { YardError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import {
  DEFAULT_CHECKPOINT_TIMEOUT_MS,
  MigrationPhase as P,
  MigrationStrategy as S,
  WorkloadState,
  migrationDone,
  migrationPhases,
  strategies,
  type Migration,
  type Workload,
} from '../../core/workload.js';
import { BackendHealth } from '../../gen/switchyard/v1/route.js';
import type { AgentLinks } from '../agent-links.js';
import type { CheckpointStore } from '../checkpoints.js';
import type { Registry } from '../registry.js';
import type { Store } from '../store.js';
import { isLive, type WorkloadTable } from '../workloads.js';
import { preflight, rankTargets } from './preflight.js';

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
}

/** What the coordinator asks of the router to move a workload's traffic with it. */
export interface TrafficHooks {
  backs(workload: string): boolean;
  hold(workload: string): Promise<void>;
  release(workload: string): Promise<void>;
  split(workload: string, s: { sourceServerId: string; targetServerId: string; targetShare: number; sourceDraining: boolean }): Promise<void>;
  endpointStats(workload: string, serverId: string): { active: number; connectErrors: number; checksPassing: boolean; health: BackendHealth; reportedMs: number }[];
}

/** Restart strategy: the new instance's share of traffic at each step of the ramp. */
const RAMP_STEPS = [5, 25, 50, 100];
/** How long each ramp step holds before its health gate. */
const RAMP_STEP_MS = 1000;
/** How long a newcomer may take to pass its first health checks at the proxies. */
const HEALTHY_WAIT_MS = 30_000;
/** How long open connections may take to finish before a checkpoint or a stop goes ahead anyway. */
const IDLE_WAIT_MS = 5000;
const SOURCE_DRAIN_MS = 30_000;
/** How long the agents' workload snapshots may trail a migration's last step. */
const SETTLE_WAIT_MS = 5000;

/** Transfers are bounded by size, not by a short deadline: 10 minutes covers gigabytes on a LAN. */
const TRANSFER_TIMEOUT_MS = 10 * 60_000;
const COMMAND_TIMEOUT_MS = 30_000;

class Cancelled extends Error {}

/**
 * Moves workloads between hosts. Each migration is a journaled state machine: a phase is
 * written to the store before it acts, so a controller that restarts mid-way finishes or rolls
 * back by itself. Whatever happens, the workload ends on exactly one host.
 */
export class Coordinator extends EventEmitter<{ migration: [Migration] }> {
  private readonly live = new Map<string, Migration>();
  private readonly cancelled = new Set<string>();
  /** Workloads whose stray copy is being checked or removed (one check at a time each). */
  private readonly reconciling = new Set<string>();

  constructor(private readonly o: CoordinatorOptions) {
    super();
    this.setMaxListeners(0);
    o.workloads.on('workload', (w) => this.reconcile(w));
  }

  list(): Migration[] {
    return this.o.store.migrations().map((m) => this.live.get(m.id) ?? m);
  }

  get(id: string): Migration {
    const m = this.live.get(id) ?? this.o.store.migrations().find((x) => x.id === id || x.id.startsWith(id));
    if (!m) throw new YardError('NOT_FOUND', `no migration "${id}": \`yard migrations\` lists them`);
    return m;
  }

  private inFlight(workload: string): string | undefined {
    for (const m of this.live.values()) if (m.workload === workload) return m.id;
    return undefined;
  }

  private serverNamed(idOrName: string) {
    return this.o.registry.get(idOrName)?.server;
  }

  plan(workloadName: string, target?: string, strategy?: S): MigrationPlan {
    const workload = this.o.workloads.find(workloadName);
    if (!isLive(workload)) throw new YardError('FAILED_PRECONDITION', `workload ${workloadName} is not running (${workload.message || 'exited'}): nothing to migrate`);
    const source = this.serverNamed(workload.serverId);
    if (!source) throw new YardError('NOT_FOUND', `the server of ${workloadName} is unknown`);
    const strat = strategy || workload.spec!.strategy || S.MIGRATION_STRATEGY_CHECKPOINT;
    const inFlight = this.inFlight(workloadName);
    const targets = rankTargets(this.o.registry, workload, source, strat, this.o.cpuLimitPct, inFlight);
    const checks = target ? preflight({ workload, source, target: this.serverNamed(target), targetName: target, strategy: strat, inFlight, cpuLimitPct: this.o.cpuLimitPct }) : [];
    return { workload, strategy: strat, targets, preflight: checks };
  }

  /** Plans, checks and starts a migration; it runs on in the background. */
  async start(workloadName: string, target: string, strategy: S | undefined, requestedBy: string): Promise<Migration> {
    const plan = this.plan(workloadName, target, strategy);
    const failed = plan.preflight.filter((c) => !c.ok);
    if (failed.length) throw new YardError('FAILED_PRECONDITION', `preflight failed: ${failed.map((c) => c.reason).join('; ')}`, { checks: failed.map((c) => c.name).join(',') });
    const now = Date.now();
    const m: Migration = {
      id: randomUUID(),
      workload: workloadName,
      sourceServerId: plan.workload.serverId,
      targetServerId: this.serverNamed(target)!.id,
      strategy: plan.strategy,
      phase: P.MIGRATION_PHASE_PLANNED,
      requestedBy,
      createdMs: now,
      updatedMs: now,
      finishedMs: 0,
      preflight: plan.preflight,
      timings: { transferBytes: 0 },
      bytesDone: 0,
      bytesTotal: 0,
      checkpointSha256: '',
      error: '',
    };
    this.live.set(m.id, m);
    await this.journal(m, P.MIGRATION_PHASE_PREFLIGHT);
    this.o.log.info('migration started', { id: m.id, workload: m.workload, from: this.nameOf(m.sourceServerId), to: this.nameOf(m.targetServerId), strategy: strategies.name(m.strategy), by: requestedBy });
    void this.run(m, plan.workload);
    return m;
  }

  cancel(id: string): Migration {
    const m = this.get(id);
    if (migrationDone(m.phase)) throw new YardError('FAILED_PRECONDITION', `migration ${m.id} already ended (${migrationPhases.name(m.phase)})`);
    this.cancelled.add(m.id);
    this.o.log.info('migration cancel requested', { id: m.id });
    return m;
  }

  /** After a controller restart: finish or roll back whatever the journal left in flight. */
  resume(): void {
    for (const m of this.o.store.migrations()) {
      if (migrationDone(m.phase)) continue;
      this.live.set(m.id, m);
      this.o.log.warn('resuming an interrupted migration', { id: m.id, workload: m.workload, phase: migrationPhases.name(m.phase) });
      void this.recover(m);
    }
  }

  private nameOf(serverId: string): string {
    return this.o.registry.get(serverId)?.server.name ?? serverId;
  }

  private async journal(m: Migration, phase: P, patch: Partial<Migration> = {}): Promise<void> {
    Object.assign(m, patch, { phase, updatedMs: Date.now() });
    if (migrationDone(phase)) m.finishedMs = m.updatedMs;
    this.o.store.putMigration(m);
    await this.o.store.flush();
    this.emit('migration', m);
  }

  private progress(m: Migration, bytesDone: number, bytesTotal: number): void {
    m.bytesDone = bytesDone;
    m.bytesTotal = bytesTotal;
    this.emit('migration', m);
  }

  private checkCancel(m: Migration): void {
    if (this.cancelled.has(m.id)) throw new Cancelled('cancelled by an operator');
  }

  private send(serverId: string, action: Parameters<AgentLinks['send']>[1], timeoutMs = COMMAND_TIMEOUT_MS) {
    return this.o.links.send(serverId, action, timeoutMs, this.nameOf(serverId));
  }

  private async run(m: Migration, workload: Workload): Promise<void> {
    const spec = workload.spec!;
    let sourceStopped = false;
    let stoppedAt = 0;
    let installMs = 0;
    let heldAt = 0;
    try {
      this.checkCancel(m);
      if (m.strategy !== S.MIGRATION_STRATEGY_RESTART) {
        await this.journal(m, P.MIGRATION_PHASE_CHECKPOINTING);
        heldAt = await this.holdTraffic(m);
        stoppedAt = Date.now();
        const freeze = m.strategy === S.MIGRATION_STRATEGY_FREEZE;
        const cp = await this.send(m.sourceServerId, { $case: 'checkpoint', value: { name: spec.name, checkpointId: m.id, freeze, maxBytes: this.o.maxCheckpointBytes } }, (spec.checkpointTimeoutMs || DEFAULT_CHECKPOINT_TIMEOUT_MS) + TRANSFER_TIMEOUT_MS).catch((err: unknown) => {
          // Ignored the signal: it never stopped, nothing changed.
          if (err instanceof YardError && ['CHECKPOINT_TIMEOUT', 'NOT_FOUND', 'INVALID_ARGUMENT'].includes(err.code)) throw new NothingChanged(err.message);
          // Died on the signal, or saved badly: we stopped it, so we start it again (fresh: no checkpoint was made).
          if (err instanceof YardError && err.code === 'CHECKPOINT_FAILED') throw new NoCheckpoint(err.message);
          throw err;
        });
        sourceStopped = true;
        // The whole checkpoint phase: signal → saved and exited → archive packed.
        m.timings = { ...m.timings, checkpointMs: Date.now() - stoppedAt, transferBytes: cp.size };
        m.checkpointSha256 = cp.sha256;
        this.checkCancel(m);

        // Upload then download: each half of the bar.
        await this.journal(m, P.MIGRATION_PHASE_TRANSFERRING, { bytesTotal: cp.size, bytesDone: 0 });
        this.o.checkpoints.expect(m.id, this.o.maxCheckpointBytes, (b) => this.progress(m, b / 2, cp.size));
        this.o.checkpoints.onDownload(m.id, (b) => this.progress(m, cp.size / 2 + b / 2, cp.size));
        const up = await this.send(m.sourceServerId, { $case: 'upload', value: { checkpointId: m.id } }, TRANSFER_TIMEOUT_MS);
        this.checkCancel(m);
        const fetched = await this.send(m.targetServerId, { $case: 'fetch', value: { spec, checkpointId: m.id, sha256: cp.sha256, size: cp.size, maxBytes: this.o.maxCheckpointBytes } }, TRANSFER_TIMEOUT_MS);
        m.timings = { ...(m.timings ?? { transferBytes: 0 }), transferMs: up.transferMs + fetched.transferMs };
        installMs = fetched.installMs;
        this.progress(m, cp.size, cp.size);
        this.checkCancel(m);
      }

      await this.journal(m, P.MIGRATION_PHASE_RESTORING);
      const restoreStart = Date.now();
      const restore = m.strategy !== S.MIGRATION_STRATEGY_RESTART;
      // Restart: the new instance must not take traffic before it is verified and health-gated.
      if (!restore && this.o.traffic?.backs(m.workload)) {
        await this.o.traffic.split(m.workload, { sourceServerId: m.sourceServerId, targetServerId: m.targetServerId, targetShare: 0, sourceDraining: false });
      }
      // Provisional until the commit: a target agent that restarts before then leaves it stopped.
      const started = await this.send(m.targetServerId, { $case: 'start', value: { spec, restore, provisional: true } });
      const runningAt = Date.now();
      // Restore: unpacking on the target, then starting it there.
      m.timings = { ...(m.timings ?? { transferBytes: 0 }), restoreMs: installMs + runningAt - restoreStart, downtimeMs: sourceStopped ? runningAt - stoppedAt : 0 };
      if (heldAt) {
        // Checkpoint cutover: new connections waited at the proxies since the hold; let them
        // through once the controller sees the workload live on the target alone (the agents'
        // snapshots can trail their command results).
        await this.settled(m.workload, m.targetServerId);
        await this.o.traffic!.release(m.workload);
        m.timings = { ...m.timings, trafficHeldMs: Date.now() - heldAt };
      }

      await this.journal(m, P.MIGRATION_PHASE_VERIFYING);
      await this.verify(m, started.workload!);
      m.timings = { ...(m.timings ?? { transferBytes: 0 }), verifyMs: this.o.verifyMs };
      if (m.strategy === S.MIGRATION_STRATEGY_RESTART) await this.shiftTraffic(m);

      await this.commit(m);
    } catch (err) {
      if (err instanceof NothingChanged) {
        await this.finish(m, P.MIGRATION_PHASE_FAILED, err.message);
      } else {
        await this.rollback(m, err instanceof Cancelled ? 'cancelled by an operator' : errorMessage(err), !(err instanceof NoCheckpoint)).catch((e: unknown) =>
          this.finish(m, P.MIGRATION_PHASE_FAILED, errorMessage(e)).catch(() => undefined),
        );
      }
    }
  }

  /**
   * The restored workload must keep running, unrestarted, for the verify window. The snapshots
   * only cut the wait short; the target agent's own answer at the end decides.
   */
  private async verify(m: Migration, started: Workload): Promise<void> {
    const deadline = Date.now() + this.o.verifyMs;
    const check = (now: Workload | undefined) => {
      if (now && (now.state !== WorkloadState.WORKLOAD_STATE_RUNNING || now.pid !== started.pid || now.restarts !== started.restarts)) {
        throw new YardError('VERIFY_FAILED', `${m.workload} did not keep running on ${this.nameOf(m.targetServerId)}: ${now.message || 'exited'}`);
      }
    };
    while (Date.now() < deadline) {
      this.checkCancel(m);
      await sleep(Math.min(200, this.o.verifyMs));
      // An agent that went away took its workloads with it.
      if (!this.o.links.connected(m.targetServerId)) throw new YardError('VERIFY_FAILED', `${this.nameOf(m.targetServerId)} went away while ${m.workload} was being verified there`);
      const now = this.o.workloads.at(m.targetServerId, m.workload);
      // A snapshot older than the start says nothing about this run.
      if (now && now.startedMs >= started.startedMs) check(now);
    }
    check((await this.send(m.targetServerId, { $case: 'inspect', value: { name: m.workload } })).workload);
  }

  private async commit(m: Migration): Promise<void> {
    // The target's copy becomes its own for good (and starts again from the checkpoint if its
    // agent restarted since the verify), before the source lets go.
    const restore = m.strategy !== S.MIGRATION_STRATEGY_RESTART;
    await this.retry(m, 'keep the target running', () => this.send(m.targetServerId, { $case: 'ensure', value: { name: m.workload, restore } }));
    await this.retry(m, 'stop the source', () =>
      this.send(m.sourceServerId, { $case: 'stop', value: { name: m.workload, remove: true, kill: m.strategy !== S.MIGRATION_STRATEGY_RESTART } }).catch((err: unknown) => {
        // Already gone: a commit cut short by a controller restart removed it.
        if (!(err instanceof YardError && err.code === 'NOT_FOUND')) throw err;
      }),
    ).catch((err: unknown) => {
      // It runs on the target now; what the source holds is a stopped copy, removed by
      // reconcile() when its agent is back.
      this.o.log.warn('committed with the source away: its stopped copy goes when it returns', { id: m.id, workload: m.workload, error: errorMessage(err) });
    });
    await this.o.checkpoints.remove(m.id);
    await this.finish(m, P.MIGRATION_PHASE_COMMITTED, '');
  }

  /** Back to the source. `fromCheckpoint`: its state dir holds the checkpoint to restore from. */
  private async rollback(m: Migration, why: string, fromCheckpoint = true): Promise<void> {
    this.o.log.warn('migration rolling back', { id: m.id, workload: m.workload, why });
    await this.journal(m, P.MIGRATION_PHASE_ROLLING_BACK, { error: why });
    await this.trafficAwayFromTarget(m).catch((err: unknown) => this.o.log.warn('could not move traffic off the target before rolling back', { id: m.id, error: errorMessage(err) }));
    // Never two at once: the target's copy goes first (it may not exist; an agent that is away
    // is handled by reconcile() when it comes back).
    if (this.o.links.connected(m.targetServerId)) {
      await this.send(m.targetServerId, { $case: 'stop', value: { name: m.workload, remove: true, kill: true } }).catch(() => undefined);
    }
    // The source agent decides from its own state, never from our snapshot of it (which can
    // trail a checkpoint that just finished): running stays, frozen resumes, checkpointed
    // starts again from the same checkpoint, which is its state dir.
    const restore = fromCheckpoint && m.strategy !== S.MIGRATION_STRATEGY_RESTART;
    await this.retry(m, 'restore the source', () => this.send(m.sourceServerId, { $case: 'ensure', value: { name: m.workload, restore } }));
    await this.o.checkpoints.remove(m.id);
    await this.finish(m, P.MIGRATION_PHASE_ROLLED_BACK, why);
  }

  /** Steps of a rollback or commit must happen: retry while the agent is away, up to agentWaitMs. */
  private async retry(m: Migration, what: string, step: () => Promise<unknown>): Promise<void> {
    const deadline = Date.now() + this.o.agentWaitMs;
    for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
      try {
        await step();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new YardError('UNAVAILABLE', `could not ${what} for migration ${m.id}: ${errorMessage(err)}`);
        await sleep(wait);
      }
    }
  }

  private async finish(m: Migration, phase: P, error: string): Promise<void> {
    // Whatever the outcome, routes resolve again to wherever the workload now runs.
    if (this.o.traffic?.backs(m.workload)) {
      await this.settled(m.workload, phase === P.MIGRATION_PHASE_COMMITTED ? m.targetServerId : m.sourceServerId);
      await this.o.traffic.release(m.workload).catch((err: unknown) => this.o.log.warn('could not release the routes of a migrated workload', { id: m.id, workload: m.workload, error: errorMessage(err) }));
    }
    this.live.delete(m.id);
    this.cancelled.delete(m.id);
    await this.journal(m, phase, { error });
    this.o.log.info(`migration ${migrationPhases.name(phase)}`, { id: m.id, workload: m.workload, error: error || undefined, downtimeMs: m.timings?.downtimeMs });
  }

  private async recover(m: Migration): Promise<void> {
    if (m.phase === P.MIGRATION_PHASE_PLANNED || m.phase === P.MIGRATION_PHASE_PREFLIGHT) {
      await this.finish(m, P.MIGRATION_PHASE_FAILED, 'the controller restarted before the migration acted; nothing changed').catch(() => undefined);
      return;
    }
    let why = `the controller restarted during ${migrationPhases.name(m.phase)}`;
    try {
      await this.waitForAgents(m);
      // The journal says how far it got; the target agent itself says whether it runs there.
      if (m.phase === P.MIGRATION_PHASE_VERIFYING && (await this.runsOn(m.targetServerId, m.workload))) {
        await this.commit(m);
        return;
      }
    } catch (err) {
      why = `${why}, and the commit failed: ${errorMessage(err)}`;
    }
    await this.rollback(m, why).catch((err: unknown) => this.finish(m, P.MIGRATION_PHASE_FAILED, errorMessage(err)).catch(() => undefined));
  }

  private async waitForAgents(m: Migration): Promise<void> {
    const deadline = Date.now() + this.o.agentWaitMs;
    while (!this.o.links.connected(m.sourceServerId) && Date.now() < deadline) await sleep(200);
    // Give the target a moment to come back too (its answer decides commit vs rollback).
    const targetDeadline = Math.min(deadline, Date.now() + 3000);
    while (!this.o.links.connected(m.targetServerId) && Date.now() < targetDeadline) await sleep(200);
  }

  /** Whether `serverId`'s agent says the workload is live there (no answer: no). */
  private async runsOn(serverId: string, workload: string): Promise<boolean> {
    if (!this.o.links.connected(serverId)) return false;
    const r = await this.send(serverId, { $case: 'inspect', value: { name: workload } }).catch(() => undefined);
    return r?.workload !== undefined && isLive(r.workload);
  }

  /**
   * Checkpoint and freeze: the proxies stop sending the workload new connections and make new
   * clients wait; open ones get a moment to finish before the workload is signalled.
   * Returns when the hold began (0: the workload backs no route).
   */
  private async holdTraffic(m: Migration): Promise<number> {
    const traffic = this.o.traffic;
    if (!traffic?.backs(m.workload)) return 0;
    const at = Date.now();
    await traffic.hold(m.workload);
    const open = await this.waitIdle(m.workload, m.sourceServerId, IDLE_WAIT_MS);
    if (open > 0) this.o.log.warn('checkpointing with connections still open', { id: m.id, workload: m.workload, open });
    return at;
  }

  /**
   * Restart strategy, with the new instance verified: it joins its routes at weight 0, must pass
   * the proxies' health checks, takes a rising share of traffic (each step health-gated), and the
   * source drains before it is stopped. A failed gate throws, and the rollback moves traffic back.
   */
  private async shiftTraffic(m: Migration): Promise<void> {
    const traffic = this.o.traffic;
    if (!traffic?.backs(m.workload)) return;
    const started = Date.now();
    const split = (targetShare: number, sourceDraining = false) =>
      traffic.split(m.workload, { sourceServerId: m.sourceServerId, targetServerId: m.targetServerId, targetShare, sourceDraining });
    await split(0);
    const since = Date.now();
    await this.until(m, HEALTHY_WAIT_MS, () => {
      const onTarget = this.o.workloads.at(m.targetServerId, m.workload);
      if (!onTarget || !isLive(onTarget)) throw new YardError('TRAFFIC_GATE', `${m.workload} exited on ${this.nameOf(m.targetServerId)} before it passed the proxies' health checks: ${onTarget?.message || 'gone'}`);
      const s = traffic.endpointStats(m.workload, m.targetServerId);
      return s.length > 0 && s.every((e) => e.reportedMs > since && e.checksPassing);
    }).catch((err: unknown) => {
      if (err instanceof Cancelled || err instanceof YardError) throw err;
      throw new YardError('TRAFFIC_GATE', `${m.workload} on ${this.nameOf(m.targetServerId)} did not pass the proxies' health checks within ${HEALTHY_WAIT_MS / 1000}s`);
    });
    for (const share of RAMP_STEPS) {
      this.checkCancel(m);
      const errorsBefore = sum(traffic.endpointStats(m.workload, m.targetServerId).map((e) => e.connectErrors));
      await split(share);
      await sleep(RAMP_STEP_MS);
      const now = traffic.endpointStats(m.workload, m.targetServerId);
      const errors = sum(now.map((e) => e.connectErrors)) - errorsBefore;
      if (errors > 0 || now.some((e) => e.health === BackendHealth.BACKEND_HEALTH_UNHEALTHY)) {
        throw new YardError('TRAFFIC_GATE', `${m.workload} on ${this.nameOf(m.targetServerId)} failed at ${share}% of traffic: ${errors > 0 ? `${errors} connect errors` : 'unhealthy at the proxies'}`);
      }
    }
    await split(100, true);
    const open = await this.waitIdle(m.workload, m.sourceServerId, SOURCE_DRAIN_MS);
    if (open > 0) this.o.log.warn('stopping the source with connections still open', { id: m.id, workload: m.workload, open });
    m.timings = { ...(m.timings ?? { transferBytes: 0 }), trafficShiftMs: Date.now() - started };
  }

  /** Before the target's copy is stopped: it takes no new connections, and open ones may finish. */
  private async trafficAwayFromTarget(m: Migration): Promise<void> {
    const traffic = this.o.traffic;
    if (!traffic?.backs(m.workload)) return;
    if (m.strategy === S.MIGRATION_STRATEGY_RESTART) {
      await traffic.split(m.workload, { sourceServerId: m.sourceServerId, targetServerId: m.targetServerId, targetShare: 0, sourceDraining: false });
    } else {
      // The source is not back yet: new clients wait for it rather than fail.
      await traffic.hold(m.workload);
    }
    await this.waitIdle(m.workload, m.targetServerId, IDLE_WAIT_MS);
  }

  /**
   * Waits (bounded) until the workload table shows `workload` live on `serverId` and nowhere
   * else. Only for traffic: the router places routes from that table, so this is the moment its
   * view caught up; no decision about where the workload runs is taken from it.
   */
  private async settled(workload: string, serverId: string): Promise<void> {
    const deadline = Date.now() + SETTLE_WAIT_MS;
    const live = () => this.o.workloads.instances(workload).filter(isLive).map((w) => w.serverId);
    while (Date.now() < deadline) {
      const where = live();
      if (where.length === 1 && where[0] === serverId) return;
      await sleep(20);
    }
  }

  /** Waits for the proxies to report no open connections to the workload on `serverId`; returns how many are still open. */
  private async waitIdle(workload: string, serverId: string, timeoutMs: number): Promise<number> {
    const since = Date.now();
    const open = () => sum(this.o.traffic!.endpointStats(workload, serverId).map((e) => e.active));
    const fresh = () => this.o.traffic!.endpointStats(workload, serverId).every((e) => e.reportedMs > since);
    while (Date.now() - since < timeoutMs) {
      if (fresh() && open() === 0) return 0;
      await sleep(100);
    }
    return open();
  }

  private async until(m: Migration, timeoutMs: number, ok: () => boolean): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      this.checkCancel(m);
      if (Date.now() > deadline) throw new Error('timed out');
      await sleep(100);
    }
  }

  /**
   * Invariant: one host. A copy that shows up where a finished migration says it must not be
   * (an agent that was away during a rollback, or during a commit) is stopped and removed —
   * once the host where it belongs answers, itself, that it runs it there. Checked when either
   * host reports, as either may be the last to come back.
   */
  private reconcile(w: Workload): void {
    const name = w.spec!.name;
    if (this.inFlight(name) || this.reconciling.has(name)) return;
    const last = this.o.store.migrations().find((m) => m.workload === name);
    if (!last || !migrationDone(last.phase)) return;
    const committed = last.phase === P.MIGRATION_PHASE_COMMITTED;
    const home = committed ? last.targetServerId : last.sourceServerId;
    const away = committed ? last.sourceServerId : last.targetServerId;
    if ((w.serverId !== home && w.serverId !== away) || !this.o.workloads.at(away, name)) return;
    this.reconciling.add(name);
    void this.runsOn(home, name)
      .then(async (runs) => {
        if (!runs || this.inFlight(name)) return;
        this.o.log.warn('removing a stray copy left by a migration', { workload: name, server: this.nameOf(away), migration: last.id });
        await this.send(away, { $case: 'stop', value: { name, remove: true, kill: true } }).catch(() => undefined);
      })
      .finally(() => this.reconciling.delete(name));
  }
}

/** A failure before anything moved: the workload still runs where it was. */
class NothingChanged extends Error {}

/** The checkpoint stopped the workload but produced nothing to restore from. */
class NoCheckpoint extends Error {}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
