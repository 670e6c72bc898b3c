// A listening socket for a route. Keyed by where it listens, not by route, so a route that is
// renamed, or two routes that swap ports, keep their listener across a change.
import { createServer, type Server, type Socket } from 'node:net';
import { formatHostPort } from '../../core/address.js';
import { YardError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { RouteRuntime } from './route-runtime.js';

export function listenKey(host: string, port: number): string {
  return formatHostPort({ host, port });
}

export class Listener {
  /** Where its connections go; swapped by a change without closing the socket. */
  route?: RouteRuntime;
  /** Why it stopped listening after it was up. */
  error = '';

  private constructor(
    readonly key: string,
    private readonly server: Server,
  ) {}

  /** Binds host:port for `routeName`, or throws PORT_IN_USE / LISTEN_FAILED saying why. */
  static bind(host: string, port: number, routeName: string, log: Logger): Promise<Listener> {
    const key = listenKey(host, port);
    // Paused: a client that must wait for a backend sends into the kernel, not into our memory.
    const server = createServer({ pauseOnConnect: true, allowHalfOpen: true, noDelay: true });
    const listener = new Listener(key, server);
    server.on('connection', listener.onConnection);
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(listenError(err, key, routeName, port)));
      server.listen({ host, port }, () => {
        server.removeAllListeners('error');
        server.on('error', (err) => {
          listener.error = errorMessage(err);
          log.warn(`listener ${key} of route ${listener.route?.name ?? routeName} failed: ${listener.error}`);
        });
        resolve(listener);
      });
    });
  }

  get listening(): boolean {
    return this.server.listening;
  }

  /** Stops accepting; resolves once every connection it accepted has closed. */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private readonly onConnection = (sock: Socket): void => {
    // Only between a bind and the swap of the tables that follows it in the same place().
    if (!this.route) sock.destroy();
    else this.route.accept(sock);
  };
}

function listenError(err: NodeJS.ErrnoException, where: string, route: string, port: number): YardError {
  const details = { route, port: String(port) };
  const prefix = `cannot listen on ${where} for route ${route}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new YardError(
        'PORT_IN_USE',
        `${prefix}: the port is in use on this host; pick another listen port`,
        details,
      );
    case 'EACCES':
      return new YardError(
        'LISTEN_FAILED',
        `${prefix}: permission denied (EACCES); ports below 1024 need root or CAP_NET_BIND_SERVICE, so pick a port above 1023`,
        details,
      );
    case 'EADDRNOTAVAIL':
      return new YardError(
        'LISTEN_FAILED',
        `${prefix}: that address is not on this host (EADDRNOTAVAIL); listen on 0.0.0.0 or one of this host's addresses`,
        details,
      );
    default:
      return new YardError('LISTEN_FAILED', `${prefix}: ${err.message}`, details);
  }
}
