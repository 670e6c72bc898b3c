// Dials in progress and when each gives up, checked by one coarse timer. A socket timer per dial
// would cost every new connection a Timeout, a timer list made and dropped and a 'timeout'
// listener, though a dial on a LAN or loopback is done in well under a millisecond.
import type { Connection } from './connection.js';

/** How late past its deadline a dial may be given up. */
const DIAL_CHECK_MS = 50;

export class DialDeadlines {
  private readonly dialing = new Set<Connection>();
  private timer?: NodeJS.Timeout;

  add(conn: Connection): void {
    this.dialing.add(conn);
    this.timer ??= setInterval(this.check, DIAL_CHECK_MS).unref();
  }

  delete(conn: Connection): void {
    this.dialing.delete(conn);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private readonly check = (): void => {
    const now = Date.now();
    // A dial that times out may start the next one at once: it is added again, with a later deadline.
    for (const conn of this.dialing) if (conn.dialDeadline <= now) conn.dialTimedOut();
    if (this.dialing.size === 0) this.stop();
  };
}
