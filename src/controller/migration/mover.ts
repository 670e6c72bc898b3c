import type { WorkloadSpec } from '../../core/workload.js';

/** One saved checkpoint to move: from the source agent that holds it to the target that installs it. */
export interface CheckpointMove {
  checkpointId: string;
  sourceServerId: string;
  targetServerId: string;
  /** The workload whose state dir the target installs it into. */
  spec: WorkloadSpec;
  sha256: string;
  size: number;
  maxBytes: number;
}

/** How a move went: its times, and the path the bytes took (agent to agent, or through the controller). */
export interface Moved {
  transferMs: number;
  installMs: number;
  path?: 'direct' | 'relay';
  /** The archive's sha256 and size, when they were learned only as it moved (packed as it was sent). */
  archive?: { sha256: string; size: number };
}

/** A move's pre-copy, before its checkpoint: the state dir and the two ends. */
export interface PreCopyStart {
  checkpointId: string;
  sourceServerId: string;
  targetServerId: string;
  spec: WorkloadSpec;
  maxBytes: number;
  /** How long the save may take (the ticket must outlive it). */
  saveTimeoutMs: number;
}

/**
 * Pre-copy of one move (issue 13): the target stages the source's state dir in rounds while the
 * workload runs; after its save, the last round moves only the chunks that changed.
 */
export interface PreCopy {
  /** The state dir's bytes when pre-copy began. */
  readonly size: number;
  /** One round while the workload runs: what it moved, and the dir's bytes. */
  round(onProgress: (bytesDone: number) => void): Promise<{ moved: number; bytes: number }>;
  /** The last round, after the save: the target checks every chunk and installs the state. */
  finish(onProgress: (bytesDone: number) => void): Promise<Moved & { moved: number; bytes: number; digest: string }>;
  /** Pre-copy ends without its last round: the ticket is forgotten (discard() cleans the agents). */
  close(): void;
  /** Pre-copy is given up and the move goes on without it: the target drops its staging dir now, so the whole checkpoint has its disk. */
  abandon(): Promise<void>;
}

/** The ends of a move, for cleaning up after it. */
export type MoveEnds = { id: string; sourceServerId: string; targetServerId: string };

/**
 * The checkpoint data path: the one thing the checkpoint and freeze strategies need to move a
 * save between hosts. Today's path relays through the controller (relay.ts); a direct
 * agent-to-agent transfer is another implementation of this.
 */
export interface CheckpointMover {
  /**
   * Whether this path packs the source's state dir as it sends it: then the save makes no
   * archive, and the move's sha256 is '' (learned on the way, in Moved.archive).
   */
  packsAsItSends?(sourceServerId: string): boolean;
  /** Resolves once the target holds the checkpoint installed in the workload's state dir. */
  move(c: CheckpointMove, o: { signal: AbortSignal; onProgress: (bytesDone: number) => void }): Promise<Moved>;
  /**
   * Starts pre-copying the workload's state dir to the target; undefined when this path cannot
   * (the source serves no direct transfers).
   */
  precopy?(p: PreCopyStart): Promise<PreCopy | undefined>;
  /** Drops whatever the move left in transit or staged, on either agent (after a commit or a rollback). */
  discard(m: MoveEnds): Promise<void>;
}
