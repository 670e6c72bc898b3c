import { YardError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import {
  MigrationPhase as P,
  WorkloadState,
  type Migration,
  type MigrationTimings,
  type Workload,
} from '../../core/workload.js';
import type { AgentAction } from '../agent-links.js';
import type { WorkloadTable } from '../workloads.js';
import type { Agents } from './agents.js';
import type { Journal, JournalPatch } from './journal.js';
import type { CheckpointMover } from './mover.js';
import type { PlacedWorkload } from './placed.js';
import type { MigrationRun } from './strategy.js';
import { Traffic, type TrafficHooks } from './traffic.js';
import { waitUpTo, type WaitOptions } from './wait.js';

export interface RunParts {
  journal: Journal;
  agents: Agents;
  workloads: WorkloadTable;
  mover: CheckpointMover;
  traffic: TrafficHooks | undefined;
  maxCheckpointBytes: number;
  verifyMs: number;
  log: Logger;
}

/** One migration in flight: the steps its strategy shares with the others. */
export class Run implements MigrationRun {
  readonly mover: CheckpointMover;
  readonly maxCheckpointBytes: number;
  readonly log: Logger;

  constructor(
    private readonly p: RunParts,
    readonly m: Migration,
    readonly workload: PlacedWorkload,
    readonly signal: AbortSignal,
    readonly precopy?: boolean,
  ) {
    this.mover = p.mover;
    this.maxCheckpointBytes = p.maxCheckpointBytes;
    this.log = p.log;
  }

  /** Asked each time: a route may be applied or removed while the migration runs. */
  get traffic(): Traffic | undefined {
    return trafficOf(this.p.traffic, this.p.workloads, this.m.workload);
  }

  phase(phase: P, patch?: JournalPatch): Promise<void> {
    return this.p.journal.phase(this.m, phase, patch);
  }

  progress(bytesDone: number, bytesTotal: number): void {
    this.p.journal.progress(this.m, bytesDone, bytesTotal);
  }

  measured(timings: Partial<MigrationTimings>): void {
    this.p.journal.measured(this.m, timings);
  }

  send(serverId: string, action: AgentAction, timeoutMs?: number) {
    return this.p.agents.send(serverId, action, timeoutMs);
  }

  nameOf(serverId: string): string {
    return this.p.agents.nameOf(serverId);
  }

  onServer(serverId: string): Workload | undefined {
    return this.p.workloads.at(serverId, this.m.workload);
  }

  async startOnTarget(restore: boolean): Promise<Workload> {
    const target = this.m.targetServerId;
    const started = await this.send(target, {
      $case: 'start',
      value: { spec: this.workload.spec, restore, provisional: true },
    });
    if (!started.workload)
      throw new YardError('INTERNAL', `${this.nameOf(target)} started ${this.m.workload} but did not say how it runs`);
    return started.workload;
  }

  /**
   * The restored workload must keep running, unrestarted, for the verify window. The snapshots
   * only cut the wait short; the target agent's own answer at the end decides.
   */
  async verify(started: Workload): Promise<void> {
    await this.phase(P.MIGRATION_PHASE_VERIFYING);
    const { targetServerId: target, workload: name } = this.m;
    const check = (now: Workload | undefined) => {
      if (
        now &&
        (now.state !== WorkloadState.WORKLOAD_STATE_RUNNING ||
          now.pid !== started.pid ||
          now.restarts !== started.restarts)
      ) {
        throw new YardError(
          'VERIFY_FAILED',
          `${name} did not keep running on ${this.nameOf(target)}: ${now.message || 'exited'}`,
        );
      }
    };
    const keepsRunning = () => {
      // An agent that went away took its workloads with it.
      if (!this.p.agents.connected(target))
        throw new YardError('VERIFY_FAILED', `${this.nameOf(target)} went away while ${name} was being verified there`);
      const now = this.p.workloads.at(target, name);
      // A snapshot older than the start says nothing about this run.
      if (now && now.startedMs >= started.startedMs) check(now);
      return false;
    };
    const wakeOn: WaitOptions['wakeOn'] = [this.p.agents.changes, [this.p.workloads, 'workload', 'removed']];
    await waitUpTo(keepsRunning, { wakeOn, timeoutMs: this.p.verifyMs, signal: this.signal });
    check((await this.send(target, { $case: 'inspect', value: { name } })).workload);
    this.measured({ verifyMs: this.p.verifyMs });
  }
}

/** The workload's traffic, when it backs a route. */
export function trafficOf(
  hooks: TrafficHooks | undefined,
  workloads: WorkloadTable,
  workload: string,
): Traffic | undefined {
  return hooks?.backs(workload) ? new Traffic(hooks, workloads, workload) : undefined;
}
