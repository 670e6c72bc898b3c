import { randomUUID } from 'node:crypto';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { YardError } from '../core/errors.js';
import { toServiceError } from '../core/rpc/errors.js';
import type { ConsoleRequest, ConsoleResponse } from '../gen/switchyard/v1/agent_gateway.js';

export type AgentConsole = ServerDuplexStream<ConsoleRequest, ConsoleResponse>;

/** The agent's stream, and its first message (which carries the output backlog). */
export interface JoinedConsole {
  call: AgentConsole;
  first: ConsoleRequest;
}

const MAX_WAITING = 64;
const DIAL_TIMEOUT_MS = 10_000;

/**
 * Consoles are pty streams between an operator (Control.Attach / Logs -f) and an agent
 * (AgentGateway.Console). The controller asks the agent to open one with a fresh session id;
 * the agent dials back with that id and the two streams are joined here.
 */
export class ConsoleBridge {
  private readonly waiting = new Map<string, { resolve(c: JoinedConsole): void; timer: NodeJS.Timeout }>();

  /** A session id, and a promise of the agent's stream for it. */
  expect(): { sessionId: string; agent: Promise<JoinedConsole> } {
    if (this.waiting.size >= MAX_WAITING)
      throw new YardError('RESOURCE_EXHAUSTED', 'too many consoles opening at once; try again');
    const sessionId = randomUUID();
    const agent = new Promise<JoinedConsole>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(sessionId);
        reject(new YardError('DEADLINE_EXCEEDED', 'the agent did not open the console in time'));
      }, DIAL_TIMEOUT_MS);
      this.waiting.set(sessionId, { resolve, timer });
    });
    return { sessionId, agent };
  }

  /** AgentGateway.Console: the agent's first message names the session. */
  accept(call: AgentConsole): void {
    call.once('data', (first: ConsoleRequest) => {
      const w = this.waiting.get(first.sessionId);
      if (!w) {
        call.emit(
          'error',
          toServiceError(new YardError('NOT_FOUND', `no console session "${first.sessionId}" is waiting`)),
        );
        return;
      }
      this.waiting.delete(first.sessionId);
      clearTimeout(w.timer);
      w.resolve({ call, first });
    });
  }
}
