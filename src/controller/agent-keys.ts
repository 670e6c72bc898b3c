import { YardError } from '../core/errors.js';
import { secretHash, tokensEqual } from './token.js';

/** Where the hashes of agents' keys are kept (the store). */
export interface AgentKeyBook {
  agentKeyHash(serverId: string): string | undefined;
  putAgentKeyHash(serverId: string, hash: string): void;
}

/** Shorter than this is not a key an agent of ours made. */
const MIN_KEY_LENGTH = 32;

/**
 * Which agent may speak for which server id. The join token admits a new server id, binding it
 * to the key the agent made for itself; from then on only that key speaks for the id — on the
 * session, and on checkpoint and console streams. A join token never claims a known server.
 */
export class AgentAdmission {
  constructor(
    private readonly book: AgentKeyBook,
    private readonly joinToken: string,
  ) {}

  /** Throws unless the hello may register as its server id; binds the key when the id joins now. */
  admit(
    hello: { serverId: string; joinToken: string; agentKey: string; hostname: string; name: string },
    peer: string,
  ): void {
    const who = `agent ${hello.name || hello.hostname || peer}`;
    if (hello.agentKey.length < MIN_KEY_LENGTH) {
      throw new YardError(
        'UNAUTHENTICATED',
        `${who} presented no agent key: upgrade it to this Switchyard version (it makes its key in agent.key in its data dir)`,
      );
    }
    const hash = this.book.agentKeyHash(hello.serverId);
    if (hash !== undefined) {
      if (tokensEqual(secretHash(hello.agentKey), hash)) return;
      throw new YardError(
        'PERMISSION_DENIED',
        `${who} claims server id ${hello.serverId}, which joined with another key: only the agent holding that key (agent.key in its data dir) may speak for it; start this agent with its own --data-dir to join as a new server`,
        { serverId: hello.serverId },
      );
    }
    if (!hello.joinToken)
      throw new YardError(
        'UNAUTHENTICATED',
        `${who} is joining without the join token: give the agent --token-file FILE or $YARD_JOIN_TOKEN (\`yard token\` on the controller host prints it)`,
      );
    if (!tokensEqual(hello.joinToken, this.joinToken))
      throw new YardError(
        'UNAUTHENTICATED',
        `${who} presented a wrong join token: use the one \`yard token\` prints on the controller host`,
      );
    this.book.putAgentKeyHash(hello.serverId, secretHash(hello.agentKey));
  }

  /** True when `key` is the one bound to `serverId` (checkpoint and console streams). */
  verify(serverId: string, key: string): boolean {
    const hash = this.book.agentKeyHash(serverId);
    return hash !== undefined && key.length >= MIN_KEY_LENGTH && tokensEqual(secretHash(key), hash);
  }
}
