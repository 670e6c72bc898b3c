import type { Logger } from '../../core/log.js';
import type { Migration, MigrationPhase, MigrationTimings, Workload } from '../../core/workload.js';
import type { CommandResult } from '../../gen/switchyard/v1/agent_gateway.js';
import type { AgentAction } from '../agent-links.js';
import type { JournalPatch } from './journal.js';
import type { CheckpointMover } from './mover.js';
import type { PlacedWorkload } from './placed.js';
import type { Traffic } from './traffic.js';

/**
 * How a workload moves. A strategy takes a migration from its first step to a target that runs,
 * verified, with its traffic; it throws to roll back (or NothingChanged / NoCheckpoint below).
 * The coordinator keeps the rest: the journal, preflight, commit, rollback and resume.
 */
export interface Strategy {
  /** The target starts from state saved on the source; a rollback starts the source again from that save. */
  readonly movesState: boolean;
  move(run: MigrationRun): Promise<void>;
  /** Rolling back: new connections stay off the target while its copy is stopped. */
  trafficOffTarget(traffic: Traffic, m: MigrationIds): Promise<void>;
}

/** One migration as a strategy sees it: its record, the steps every strategy shares, and the fleet. */
export interface MigrationRun {
  /** The record: read it here, change it only through phase(), progress() and measured(). */
  readonly m: MigrationIds;
  readonly workload: PlacedWorkload;
  /** Aborted by an operator's cancel (its reason is a Cancelled). */
  readonly signal: AbortSignal;
  /** Absent when the workload backs no route. */
  readonly traffic: Traffic | undefined;
  readonly mover: CheckpointMover;
  readonly maxCheckpointBytes: number;
  /** Pre-copy as the operator asked: on, off, or unset (by the state dir's size). */
  readonly precopy?: boolean;
  readonly log: Logger;
  phase(phase: MigrationPhase, patch?: JournalPatch): Promise<void>;
  progress(bytesDone: number, bytesTotal: number): void;
  measured(timings: Partial<MigrationTimings>): void;
  send(serverId: string, action: AgentAction, timeoutMs?: number): Promise<CommandResult>;
  nameOf(serverId: string): string;
  /** The workload on a server as the agents' snapshots last showed it. */
  onServer(serverId: string): Workload | undefined;
  /** Starts the workload on the target, provisional until the commit; resolves when it runs. */
  startOnTarget(restore: boolean): Promise<Workload>;
  /** Phase verifying: the target's copy must keep running, unrestarted, for the verify window. */
  verify(started: Workload): Promise<void>;
}

/** What a strategy reads of a migration's record. */
export type MigrationIds = Readonly<Pick<Migration, 'id' | 'workload' | 'sourceServerId' | 'targetServerId'>>;

/** A failure before anything moved: the workload still runs where it was. */
export class NothingChanged extends Error {}

/** The source stopped but saved nothing to restore from: a rollback starts it afresh. */
export class NoCheckpoint extends Error {}

/** An operator cancelled the migration (the reason its signal aborts with). */
export class Cancelled extends Error {}
