import { randomUUID } from 'node:crypto';
import { YardError } from '../core/errors.js';
import type { AgentCommand, CommandResult } from '../gen/switchyard/v1/agent_gateway.js';

export type AgentAction = NonNullable<AgentCommand['action']>;

interface Pending {
  resolve(result: CommandResult): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  onProgress?: (bytesDone: number) => void;
}

interface Link {
  session: symbol;
  send(command: AgentCommand): void;
  pending: Map<string, Pending>;
}

/** Commands in flight per agent are few (one per operator action or migration step); more is a bug. */
const MAX_PENDING_PER_AGENT = 256;

/**
 * The controller's line to each connected agent: commands go down the agent's session with a
 * correlation id, and the promise settles on the matching result, on a timeout, or when the
 * agent's session ends.
 */
export class AgentLinks {
  private readonly links = new Map<string, Link>();

  attach(serverId: string, session: symbol, send: (command: AgentCommand) => void): void {
    this.detach(serverId, undefined, 'superseded by a new session');
    this.links.set(serverId, { session, send, pending: new Map() });
  }

  /** The session ended: every command in flight on it fails. */
  detach(serverId: string, session: symbol | undefined, why: string): void {
    const link = this.links.get(serverId);
    if (!link || (session && link.session !== session)) return;
    this.links.delete(serverId);
    for (const p of link.pending.values()) {
      clearTimeout(p.timer);
      p.reject(
        new YardError('UNAVAILABLE', `agent ${serverId} went away before answering (${why})`, { server: serverId }),
      );
    }
  }

  connected(serverId: string): boolean {
    return this.links.has(serverId);
  }

  settle(serverId: string, result: CommandResult): void {
    const p = this.links.get(serverId)?.pending.get(result.id);
    if (!p) return;
    this.links.get(serverId)!.pending.delete(result.id);
    clearTimeout(p.timer);
    if (result.error) p.reject(new YardError(result.error.code, result.error.message, result.error.details));
    else p.resolve(result);
  }

  /** How far a command in flight has got, as its agent says (a progress message on the session). */
  progress(serverId: string, id: string, bytesDone: number): void {
    this.links.get(serverId)?.pending.get(id)?.onProgress?.(bytesDone);
  }

  /** Sends `action` to the agent and waits for its answer; `onProgress` hears how far it has got, if the agent says. */
  send(
    serverId: string,
    action: AgentAction,
    timeoutMs: number,
    serverName = serverId,
    onProgress?: (bytesDone: number) => void,
  ): Promise<CommandResult> {
    const link = this.links.get(serverId);
    if (!link)
      return Promise.reject(
        new YardError('UNAVAILABLE', `server ${serverName} is not connected: its agent must be online`, {
          server: serverId,
        }),
      );
    if (link.pending.size >= MAX_PENDING_PER_AGENT)
      return Promise.reject(new YardError('RESOURCE_EXHAUSTED', `too many commands in flight to ${serverName}`));
    const id = randomUUID();
    return new Promise<CommandResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        link.pending.delete(id);
        reject(
          new YardError(
            'DEADLINE_EXCEEDED',
            `${serverName} did not answer ${action.$case} within ${Math.round(timeoutMs / 1000)}s`,
            { server: serverId },
          ),
        );
      }, timeoutMs);
      link.pending.set(id, { resolve, reject, timer, onProgress });
      link.send({ id, action });
    });
  }
}
