import { createServer, connect, type Server, type Socket } from 'node:net';
import { formatHostPort, parseHostPort } from '../core/address.js';
import { YardError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';

/** Connections a standby passes on at once; past this, new ones are refused (clients try the next address). */
const MAX_FORWARDED = 20_000;

/**
 * A standby controller's TCP listener: every connection is passed, byte for byte, to the leader,
 * so agents, CLIs and dashboards that dial a standby are served by the leader. TLS runs end to
 * end between the client and the leader: the leader checks the client's certificate and the
 * client checks the leader's (controllers of one fleet share a CA; on several hosts, give them a
 * shared `--advertise-name`). With no leader known, a connection is closed at once, and the
 * client moves on to the next controller in its list.
 */
export class StandbyForwarder {
  private leader?: string;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly log: Logger,
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  static async listen(listen: string, log: Logger): Promise<StandbyForwarder> {
    const hp = parseHostPort(listen, '--listen');
    const server = createServer({ pauseOnConnect: true });
    server.maxConnections = MAX_FORWARDED;
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(hp.port, hp.host, () => resolve((server.address() as { port: number }).port));
    }).catch((err: unknown) => {
      throw new YardError(
        'LISTEN_FAILED',
        `cannot listen on ${listen}: ${errorMessage(err)}; pick another with --listen`,
      );
    });
    return new StandbyForwarder(server, port, log);
  }

  /** Where the leader is now (host:port), or undefined while none leads. */
  follow(leader: string | undefined): void {
    if (leader === this.leader) return;
    this.leader = leader;
    // Connections to a leader that is gone are of no use: their clients reconnect.
    for (const s of this.sockets) s.destroy();
    if (leader) this.log.info('standby: connections to this controller are passed to the leader', { leader });
  }

  /** Stops listening and ends every passed connection (this controller is about to serve on the port). */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const leader = this.leader;
    if (!leader) {
      client.destroy();
      return;
    }
    const { host, port } = parseHostPort(leader, 'leader address');
    const upstream = connect({ host, port });
    this.sockets.add(client);
    this.sockets.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    upstream.once('connect', () => {
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }
}

/** Where other controllers reach this one: the listen address, or for a wildcard one the first advertised name. */
export function dialAddress(listen: string, port: number, advertiseNames: readonly string[], hostname: string): string {
  const hp = parseHostPort(listen, '--listen');
  const wildcard = hp.host === '0.0.0.0' || hp.host === '::';
  return formatHostPort({ host: wildcard ? (advertiseNames[0] ?? hostname) : hp.host, port });
}
