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
}

/**
 * The checkpoint data path: the one thing the checkpoint and freeze strategies need to move a
 * save between hosts. Today's path relays through the controller (relay.ts); a direct
 * agent-to-agent transfer is another implementation of this.
 */
export interface CheckpointMover {
  /** Resolves once the target holds the checkpoint installed in the workload's state dir. */
  move(c: CheckpointMove, o: { signal: AbortSignal; onProgress: (bytesDone: number) => void }): Promise<Moved>;
  /** Drops whatever the move left in transit (after a commit or a rollback). */
  discard(checkpointId: string): Promise<void>;
}
