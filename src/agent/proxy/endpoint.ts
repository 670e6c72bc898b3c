// One endpoint of a route as the proxy serves it: counters, open connections, health, drain.
import { parseHostPort } from '../../core/address.js';
import type { Logger } from '../../core/log.js';
import { BackendHealth, ROUTE_DEFAULTS, type Endpoint, type EndpointStats } from '../../core/route.js';
import type { Pickable } from './balancer.js';
import type { Connection, Dialable } from './connection.js';
import { HealthChecker, type HealthState } from './health.js';
import type { HealthSettings } from './health-settings.js';

const REPORTED: Record<HealthState, BackendHealth> = {
  pending: BackendHealth.BACKEND_HEALTH_UNSPECIFIED,
  healthy: BackendHealth.BACKEND_HEALTH_HEALTHY,
  degraded: BackendHealth.BACKEND_HEALTH_DEGRADED,
  unhealthy: BackendHealth.BACKEND_HEALTH_UNHEALTHY,
};

export interface EndpointContext {
  route: string;
  log: Logger;
  /** Its health changed in a way that may change who takes connections. */
  onHealthChange(): void;
  /** How long the route keeps clients waiting for an endpoint (its hold timeout). */
  holdTimeoutMs(): number;
}

export class EndpointRuntime implements Pickable, Dialable {
  host = '';
  port = 0;
  current = 0;
  total = 0;
  connectErrors = 0;
  readonly connections = new Set<Connection>();
  private bytesInClosed = 0;
  private bytesOutClosed = 0;
  private health?: HealthChecker;
  private removed = false;
  private drainingSince = 0;
  private drainTimer?: NodeJS.Timeout;

  /** `starting`: its instance has just started (it replaces one held for a cut-over); see update(). */
  constructor(
    public spec: Endpoint,
    private settings: HealthSettings,
    private readonly ctx: EndpointContext,
    starting = false,
  ) {
    this.watch(starting ? ctx.holdTimeoutMs() : 0);
    this.syncDrain();
  }

  get key(): string {
    return this.spec.key;
  }

  get weight(): number {
    return this.spec.weight;
  }

  get active(): number {
    return this.connections.size;
  }

  /** Takes no new connections; open ones finish, up to the drain timeout. */
  get draining(): boolean {
    return this.removed || this.spec.draining || this.spec.weight === 0;
  }

  /** It may take a new connection now. */
  get candidate(): boolean {
    return !this.draining && !this.spec.held && this.health?.passable === true;
  }

  /** It cannot take connections now but soon may: cut over (held) or not yet checked. */
  get awaited(): boolean {
    return !this.draining && (this.spec.held || this.health?.pending === true);
  }

  /** Takes the new table's view of it: weight and flags at once, and a new address means new checks. */
  update(spec: Endpoint, settings: HealthSettings): void {
    // A removed endpoint back in the table had its checks stopped: they start over. So do those
    // of one released from a cut-over: the instance behind the address is the new one (on one
    // host the old one may have answered the checks at the same address), and clients wait for
    // its first passing check rather than meet a port that is not listening yet. That instance
    // has just started, so failed checks do not make it unhealthy while it may still be coming
    // up: for as long as the route keeps clients waiting.
    const released = this.spec.held && !spec.held;
    const restart = spec.address !== this.spec.address || this.removed || released;
    this.spec = spec;
    this.settings = settings;
    this.removed = false;
    if (restart) this.watch(released ? this.ctx.holdTimeoutMs() : 0);
    else this.health?.configure(settings);
    this.syncDrain();
  }

  /** Gone from the table: no checks, no new connections; open ones drain. */
  remove(): void {
    this.removed = true;
    this.health?.stop();
    this.syncDrain();
  }

  noteConnectError(reason: string): void {
    this.connectErrors++;
    this.health?.noteConnectError(reason);
  }

  attach(conn: Connection): void {
    this.connections.add(conn);
  }

  connected(): void {
    this.total++;
  }

  detach(conn: Connection): void {
    if (!this.connections.delete(conn)) return;
    this.bytesInClosed += conn.bytesIn;
    this.bytesOutClosed += conn.bytesOut;
  }

  /** Proxy shutdown: every connection and timer ends now. */
  destroy(): void {
    this.health?.stop();
    clearTimeout(this.drainTimer);
    for (const conn of [...this.connections]) conn.destroy();
  }

  stats(): EndpointStats {
    let bytesIn = this.bytesInClosed;
    let bytesOut = this.bytesOutClosed;
    for (const conn of this.connections) {
      bytesIn += conn.bytesIn;
      bytesOut += conn.bytesOut;
    }
    const { health, healthDetail, checksPassing } = this.healthReport();
    return {
      key: this.spec.key,
      active: this.active,
      total: this.total,
      bytesIn,
      bytesOut,
      connectErrors: this.connectErrors,
      health,
      healthDetail,
      checksPassing,
    };
  }

  private healthReport(): Pick<EndpointStats, 'health' | 'healthDetail' | 'checksPassing'> {
    const h = this.health;
    if (!h) {
      return {
        health: BackendHealth.BACKEND_HEALTH_UNHEALTHY,
        healthDetail: this.spec.detail ? `no address: ${this.spec.detail}` : 'no address',
        checksPassing: false,
      };
    }
    if (this.draining && h.passing) {
      return { health: BackendHealth.BACKEND_HEALTH_DRAINING, healthDetail: this.drainDetail(), checksPassing: true };
    }
    const detail = this.spec.held && h.passable ? `held for a cut-over; ${h.detail}` : h.detail;
    return { health: REPORTED[h.status], healthDetail: detail, checksPassing: h.passing };
  }

  private drainDetail(): string {
    const why = this.removed ? 'removed from the route' : this.spec.draining ? 'drained' : 'weight 0';
    return this.active > 0 ? `${why}: ${this.active} open connection(s) finishing` : `${why}: no new connections`;
  }

  /** (Re)starts checks against the current address; an endpoint with none is not checked. */
  private watch(startGraceMs = 0): void {
    this.health?.stop();
    this.health = undefined;
    if (!this.spec.address) return;
    const { host, port } = parseHostPort(this.spec.address, `endpoint ${this.spec.key}`);
    this.host = host;
    this.port = port;
    this.health = new HealthChecker(
      { host, port, address: this.spec.address },
      this.settings,
      this.onHealth,
      startGraceMs,
    );
  }

  private readonly onHealth = (state: HealthState, detail: string): void => {
    const label =
      this.spec.backend && this.spec.backend !== this.spec.address
        ? `${this.spec.backend} (${this.spec.address})`
        : this.spec.address;
    this.ctx.log.info(`backend ${label} of ${this.ctx.route} is ${state}: ${detail}`, {
      route: this.ctx.route,
      endpoint: this.spec.key,
    });
    this.ctx.onHealthChange();
  };

  /**
   * Open connections may last the drain timeout from when draining began; a later change that
   * keeps it draining does not restart the clock.
   */
  private syncDrain(): void {
    clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    if (!this.draining) {
      this.drainingSince = 0;
      return;
    }
    if (this.drainingSince === 0) this.drainingSince = Date.now();
    if (this.connections.size === 0) return;
    const timeoutMs = this.spec.drainTimeoutMs || ROUTE_DEFAULTS.drainTimeoutMs;
    const left = Math.max(0, this.drainingSince + timeoutMs - Date.now());
    this.drainTimer = setTimeout(this.drainExpired, left).unref();
  }

  private readonly drainExpired = (): void => {
    this.drainTimer = undefined;
    for (const conn of [...this.connections]) conn.destroy();
  };
}
