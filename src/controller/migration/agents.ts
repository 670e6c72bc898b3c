import { isLive } from '../../core/format/words.js';
import type { CommandResult } from '../../gen/switchyard/v1/agent_gateway.js';
import type { AgentAction, AgentLinks } from '../agent-links.js';
import type { Registry } from '../registry.js';
import { waitUpTo, type Wakes } from './wait.js';

const COMMAND_TIMEOUT_MS = 30_000;

/** The agents a migration commands, by server id, named in errors as their operators name them. */
export class Agents {
  constructor(
    private readonly links: AgentLinks,
    private readonly registry: Registry,
  ) {}

  nameOf(serverId: string): string {
    return this.registry.get(serverId)?.server.name ?? serverId;
  }

  send(
    serverId: string,
    action: AgentAction,
    timeoutMs = COMMAND_TIMEOUT_MS,
    onProgress?: (bytesDone: number) => void,
  ): Promise<CommandResult> {
    return this.links.send(serverId, action, timeoutMs, this.nameOf(serverId), onProgress);
  }

  connected(serverId: string): boolean {
    return this.links.connected(serverId);
  }

  /** Waits up to `timeoutMs` for the server's agent to be connected; whether it is. */
  reachable(serverId: string, timeoutMs: number): Promise<boolean> {
    return waitUpTo(() => this.connected(serverId), { wakeOn: [this.changes], timeoutMs });
  }

  /** Whether `serverId`'s agent says the workload is live there (no answer: no). */
  async runsOn(serverId: string, workload: string): Promise<boolean> {
    if (!this.connected(serverId)) return false;
    const r = await this.send(serverId, { $case: 'inspect', value: { name: workload } }).catch(() => undefined);
    return r?.workload !== undefined && isLive(r.workload);
  }

  /** Wakes a wait when an agent comes or goes (the registry announces both). */
  get changes(): [Wakes, ...string[]] {
    return [this.registry, 'server'];
  }
}
