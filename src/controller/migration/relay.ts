import type { AgentAction } from '../agent-links.js';
import type { CheckpointStore } from '../checkpoints.js';
import type { CommandResult } from '../../gen/switchyard/v1/agent_gateway.js';
import type { CheckpointMove, CheckpointMover, MoveEnds, Moved } from './mover.js';

/** Transfers are bounded by size, not by a short deadline: 10 minutes covers gigabytes on a LAN. */
export const TRANSFER_TIMEOUT_MS = 10 * 60_000;

type Send = (serverId: string, action: AgentAction, timeoutMs: number) => Promise<CommandResult>;

/**
 * The checkpoint data path through the controller (the fallback when agents cannot reach each
 * other): the source agent uploads the archive into the controller's checkpoint store while the
 * target downloads it, then checks and unpacks it.
 */
export class ControllerRelay implements CheckpointMover {
  constructor(
    private readonly store: CheckpointStore,
    private readonly send: Send,
  ) {}

  async move(c: CheckpointMove, o: { signal: AbortSignal; onProgress: (bytesDone: number) => void }): Promise<Moved> {
    this.store.expect(c.checkpointId, c.maxBytes);
    // What the target has received is how far the move got.
    this.store.onDownload(c.checkpointId, (b) => o.onProgress(b));
    // Pipelined: the target downloads while the source uploads, one pass over the controller's link.
    const up = this.send(
      c.sourceServerId,
      { $case: 'upload', value: { checkpointId: c.checkpointId } },
      TRANSFER_TIMEOUT_MS,
    );
    const fetched = this.send(
      c.targetServerId,
      {
        $case: 'fetch',
        value: { spec: c.spec, checkpointId: c.checkpointId, sha256: c.sha256, size: c.size, maxBytes: c.maxBytes },
      },
      TRANSFER_TIMEOUT_MS,
    );
    // An upload that fails ends the download waiting on it at once, rather than after its stall timeout.
    up.catch(() => this.store.remove(c.checkpointId));
    const [, got] = await Promise.all([up, fetched]);
    o.signal.throwIfAborted();
    return { transferMs: got.transferMs, installMs: got.installMs, path: 'relay' };
  }

  discard(m: MoveEnds): Promise<void> {
    return this.store.remove(m.id);
  }
}
