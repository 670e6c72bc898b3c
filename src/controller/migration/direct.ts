import { YardError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { CommandResult } from '../../gen/switchyard/v1/agent_gateway.js';
import type { AgentAction } from '../agent-links.js';
import type { Registry } from '../registry.js';
import { TICKET_TTL_MS } from '../../core/transfer-ticket.js';
import type { CheckpointMove, CheckpointMover, MoveEnds, Moved, PreCopy, PreCopyStart } from './mover.js';
import { TRANSFER_TIMEOUT_MS, type ControllerRelay } from './relay.js';
import { TicketBook } from './tickets.js';

type Send = (
  serverId: string,
  action: AgentAction,
  timeoutMs: number,
  onProgress?: (bytesDone: number) => void,
) => Promise<CommandResult>;

const OFFER_TIMEOUT_MS = 30_000;

/**
 * Checkpoints move source agent → target agent (issue 13): the controller only brokers. It
 * issues a one-time ticket for (checkpoint, source, target), tells the source to offer the
 * archive to that target alone and the target to pull it, over TLS with both agents'
 * certificates. A source that serves no transfers, or a target that cannot reach it (NAT, a
 * firewall), falls back to the relay through the controller; the record says which it was.
 */
export class DirectMover implements CheckpointMover {
  private readonly tickets = new TicketBook();
  /** Checkpoints offered by a source, to withdraw when the move ends. */
  private readonly offeredBy = new Map<string, string>();
  /** Pre-copies staged on a target and not installed, to drop when the move ends. */
  private readonly stagedOn = new Map<string, string>();

  constructor(
    private readonly o: {
      relay: ControllerRelay;
      send: Send;
      registry: Registry;
      log: Logger;
      connected: (serverId: string) => boolean;
    },
  ) {}

  /** Whether the source can pack as it sends (it serves direct transfers): its save then makes no archive. */
  packsAsItSends(sourceServerId: string): boolean {
    return Boolean(this.o.registry.get(sourceServerId)?.server.transferAddress);
  }

  async move(
    c: CheckpointMove,
    opts: { signal: AbortSignal; onProgress: (bytesDone: number) => void },
  ): Promise<Moved> {
    const address = this.o.registry.get(c.sourceServerId)?.server.transferAddress;
    if (!address) {
      if (!c.sha256)
        throw new YardError(
          'UNAVAILABLE',
          `server ${c.sourceServerId} stopped serving direct transfers after a save that made no archive for the relay`,
        );
      return { ...(await this.o.relay.move(c, opts)), path: 'relay' };
    }
    const { secret, ticket } = this.tickets.issue({
      checkpointId: c.checkpointId,
      sourceServerId: c.sourceServerId,
      targetServerId: c.targetServerId,
    });
    try {
      // The offer opens at once (its first progress report) and answers once the archive is
      // whole: packed as it is served, when the save made none.
      let opened = () => {};
      const open = new Promise<void>((resolve) => {
        opened = resolve;
      });
      const offering = this.o.send(
        c.sourceServerId,
        {
          $case: 'offer',
          value: {
            checkpointId: c.checkpointId,
            ticketDigest: ticket.digest,
            targetServerId: c.targetServerId,
            expiresMs: ticket.expiresMs,
            name: c.spec.name,
            maxBytes: c.maxBytes,
          },
        },
        TRANSFER_TIMEOUT_MS,
        () => opened(),
      );
      offering.catch(() => {}); // awaited below
      this.offeredBy.set(c.checkpointId, c.sourceServerId);
      await Promise.race([open, offering]);
      opts.signal.throwIfAborted();
      try {
        const pulled = await this.pull(
          c,
          {
            $case: 'pull',
            value: {
              spec: c.spec,
              checkpointId: c.checkpointId,
              sha256: c.sha256,
              size: c.size,
              maxBytes: c.maxBytes,
              sourceAddress: address,
              sourceServerId: c.sourceServerId,
              ticket: secret,
            },
          },
          // The target says how much it has received and unpacked, a few times a second.
          (b) => opts.onProgress(Math.min(b, c.size)),
        );
        const packed = await offering;
        opts.onProgress(c.size);
        return {
          transferMs: pulled.transferMs,
          installMs: pulled.installMs,
          path: 'direct',
          archive: { sha256: pulled.sha256 || packed.sha256, size: pulled.size || packed.size },
        };
      } catch (err) {
        // The target could not reach the source at all: the controller relays, from the same archive.
        if (!(err instanceof YardError) || err.code !== 'UNAVAILABLE' || !/cannot reach server/.test(err.message))
          throw err;
        this.o.log.warn('direct checkpoint transfer impossible; relaying it through the controller', {
          checkpoint: c.checkpointId,
          error: errorMessage(err),
        });
        const packed = await offering;
        const archive = { sha256: packed.sha256, size: packed.size };
        return { ...(await this.o.relay.move({ ...c, ...archive }, opts)), path: 'relay', archive };
      }
    } finally {
      this.tickets.cancel(ticket.digest);
    }
  }

  /** The target's pull; its failure names the target, as the migration record shows it. */
  private async pull(
    c: CheckpointMove,
    action: AgentAction,
    onProgress: (bytesDone: number) => void,
  ): Promise<CommandResult> {
    try {
      return await this.o.send(c.targetServerId, action, TRANSFER_TIMEOUT_MS, onProgress);
    } catch (err) {
      if (!(err instanceof YardError) || err.code === 'UNAVAILABLE') throw err;
      const name = this.o.registry.get(c.targetServerId)?.server.name ?? c.targetServerId;
      throw new YardError(err.code, `on server ${name}: ${err.message}`, err.details);
    }
  }

  async discard(m: MoveEnds): Promise<void> {
    const checkpointId = m.id;
    await this.o.relay.discard(m);
    const source = this.offeredBy.get(checkpointId);
    this.offeredBy.delete(checkpointId);
    const staged = this.stagedOn.get(checkpointId);
    this.stagedOn.delete(checkpointId);
    const withdraw = (serverId: string, what: string) =>
      this.o.send(serverId, { $case: 'withdraw', value: { checkpointId } }, OFFER_TIMEOUT_MS).catch((err: unknown) =>
        this.o.log.warn(`could not withdraw a checkpoint transfer; ${what}`, {
          checkpoint: checkpointId,
          error: errorMessage(err),
        }),
      );
    // After a controller restart nothing here remembers what the move left: both ends are asked
    // (a withdraw of nothing is nothing), so no offer lingers and no staging dir waits for the
    // target agent's next restart.
    const forgotten = !source && !staged;
    if (source ?? (forgotten && this.o.connected(m.sourceServerId) && m.sourceServerId))
      await withdraw(m.sourceServerId, 'its archive stays in the agent outbox');
    // A target that staged a pre-copy and did not install it (a rollback) drops the staging dir.
    if (staged ?? (forgotten && this.o.connected(m.targetServerId) && m.targetServerId))
      await withdraw(m.targetServerId, 'its pre-copy stays in the agent inbox until the agent restarts');
  }

  /**
   * Pre-copy: the source serves its workload's state dir (a manifest, then chunks) to the target
   * under one ticket for all the rounds and the last one; the target stages it. Undefined when
   * the source serves no direct transfers (the relay has no pre-copy).
   */
  async precopy(p: PreCopyStart): Promise<PreCopy | undefined> {
    const address = this.o.registry.get(p.sourceServerId)?.server.transferAddress;
    if (!address) return undefined;
    // The ticket must outlive the rounds and the save between the last two of them.
    const ttlMs = p.saveTimeoutMs + TICKET_TTL_MS;
    const { secret, ticket } = this.tickets.issue(
      { checkpointId: p.checkpointId, sourceServerId: p.sourceServerId, targetServerId: p.targetServerId },
      ttlMs,
    );
    try {
      const offered = await this.o.send(
        p.sourceServerId,
        {
          $case: 'offerState',
          value: {
            checkpointId: p.checkpointId,
            ticketDigest: ticket.digest,
            targetServerId: p.targetServerId,
            expiresMs: ticket.expiresMs,
            name: p.spec.name,
          },
        },
        OFFER_TIMEOUT_MS,
      );
      this.offeredBy.set(p.checkpointId, p.sourceServerId);
      this.stagedOn.set(p.checkpointId, p.targetServerId);
      const sync = async (final: boolean, onProgress: (b: number) => void) => {
        const r = await this.o.send(
          p.targetServerId,
          {
            $case: 'syncState',
            value: {
              spec: p.spec,
              checkpointId: p.checkpointId,
              sourceAddress: address,
              sourceServerId: p.sourceServerId,
              ticket: secret,
              maxBytes: p.maxBytes,
              final,
            },
          },
          TRANSFER_TIMEOUT_MS,
          onProgress,
        );
        return {
          moved: r.movedBytes,
          bytes: r.size,
          digest: r.sha256,
          transferMs: r.transferMs,
          installMs: r.installMs,
        };
      };
      return {
        size: offered.size,
        round: (onProgress) => sync(false, onProgress),
        finish: async (onProgress) => {
          try {
            const r = await sync(true, onProgress);
            // Installed: the staging dir became the state dir.
            this.stagedOn.delete(p.checkpointId);
            return { ...r, path: 'direct' as const };
          } finally {
            this.tickets.cancel(ticket.digest);
          }
        },
        close: () => this.tickets.cancel(ticket.digest),
        abandon: async () => {
          this.tickets.cancel(ticket.digest);
          this.stagedOn.delete(p.checkpointId);
          await this.o
            .send(p.targetServerId, { $case: 'withdraw', value: { checkpointId: p.checkpointId } }, OFFER_TIMEOUT_MS)
            .catch((err: unknown) =>
              this.o.log.warn('could not drop an abandoned pre-copy on the target', {
                checkpoint: p.checkpointId,
                error: errorMessage(err),
              }),
            );
        },
      };
    } catch (err) {
      this.tickets.cancel(ticket.digest);
      throw err;
    }
  }
}
