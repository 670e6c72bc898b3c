import type { AgentAction } from '../agent-links.js';
import type { CheckpointStore } from '../checkpoints.js';
import type { CommandResult } from '../../gen/switchyard/v1/agent_gateway.js';
import type { CheckpointMove, CheckpointMover, Moved } from './mover.js';

/** Transfers are bounded by size, not by a short deadline: 10 minutes covers gigabytes on a LAN. */
export const TRANSFER_TIMEOUT_MS = 10 * 60_000;

type Send = (serverId: string, action: AgentAction, timeoutMs: number) => Promise<CommandResult>;

/**
 * Today's checkpoint data path: the source agent uploads the archive to the controller's
 * checkpoint store, then the target downloads, checks and unpacks it. Each half is half the bar.
 */
export class ControllerRelay implements CheckpointMover {
  constructor(
    private readonly store: CheckpointStore,
    private readonly send: Send,
  ) {}

  async move(c: CheckpointMove, o: { signal: AbortSignal; onProgress: (bytesDone: number) => void }): Promise<Moved> {
    this.store.expect(c.checkpointId, c.maxBytes, (b) => o.onProgress(b / 2));
    this.store.onDownload(c.checkpointId, (b) => o.onProgress(c.size / 2 + b / 2));
    const up = await this.send(
      c.sourceServerId,
      { $case: 'upload', value: { checkpointId: c.checkpointId } },
      TRANSFER_TIMEOUT_MS,
    );
    o.signal.throwIfAborted();
    const fetched = await this.send(
      c.targetServerId,
      {
        $case: 'fetch',
        value: { spec: c.spec, checkpointId: c.checkpointId, sha256: c.sha256, size: c.size, maxBytes: c.maxBytes },
      },
      TRANSFER_TIMEOUT_MS,
    );
    return { transferMs: up.transferMs + fetched.transferMs, installMs: fetched.installMs, path: 'relay' };
  }

  discard(checkpointId: string): Promise<void> {
    return this.store.remove(checkpointId);
  }
}
