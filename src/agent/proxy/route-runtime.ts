// One placed route: its endpoints, who takes the next connection, and clients waiting for one.
import type { Socket } from 'node:net';
import type { Logger } from '../../core/log.js';
import { ROUTE_DEFAULTS, RoutePolicy, type Endpoint, type PlacedRoute, type RouteStats } from '../../core/route.js';
import { LeastConnections, SmoothWeighted, type Balancer } from './balancer.js';
import { Connection, type ConnectionOwner } from './connection.js';
import { DialDeadlines } from './dial-deadlines.js';
import { EndpointRuntime, type EndpointContext } from './endpoint.js';
import { HeldQueue } from './held-queue.js';
import { healthSettings, type HealthSettings } from './health-settings.js';

/** Dials per client, the first included, before it is given up. */
const MAX_ATTEMPTS = 3;
/** Clients one route keeps waiting at most; beyond that they are refused. */
const HELD_LIMIT = 10_000;

function balancerFor(policy: RoutePolicy): Balancer {
  return policy === RoutePolicy.ROUTE_POLICY_LEAST_CONNECTIONS ? new LeastConnections() : new SmoothWeighted();
}

/**
 * A backend whose new placement has no address at all (say, a restarted controller has not
 * heard from its workload's agent yet) keeps the endpoints it has here, with the new weight:
 * clients go on being served, as Envoy keeps its last good endpoints. A backend held for a
 * cut-over, drained, at weight 0 or gone from the table is taken as placed.
 */
function withLastGood(placed: Endpoint[], current: EndpointRuntime[], ctx: EndpointContext): Endpoint[] {
  const out: Endpoint[] = [];
  const unresolved = new Map<string, Endpoint>();
  for (const spec of placed) {
    const keepable = !spec.address && !spec.held && !spec.draining && spec.weight > 0 && spec.backend !== '';
    if (keepable && placed.every((o) => o.backend !== spec.backend || !o.address)) unresolved.set(spec.backend, spec);
    else out.push(spec);
  }
  for (const [backend, spec] of unresolved) {
    const kept = current.filter((ep) => ep.spec.backend === backend && ep.spec.address);
    if (kept.length === 0) {
      out.push(spec);
      continue;
    }
    ctx.log.warn(
      `backend ${backend} of ${ctx.route} has no address in the new table (${spec.detail || 'unresolved'}); keeping its last known endpoints: ${kept.map((ep) => ep.spec.address).join(', ')}`,
      { route: ctx.route },
    );
    for (const ep of kept)
      out.push({
        ...ep.spec,
        weight: spec.weight,
        version: spec.version,
        draining: false,
        held: false,
        drainTimeoutMs: spec.drainTimeoutMs,
        detail: `last known address (${spec.detail || 'unresolved'})`,
      });
  }
  return out;
}

export class RouteRuntime implements ConnectionOwner {
  private endpoints = new Map<string, EndpointRuntime>();
  /** Removed endpoints whose open connections still finish. */
  private readonly leaving = new Set<EndpointRuntime>();
  private candidates?: EndpointRuntime[];
  private balancer: Balancer;
  private settings: HealthSettings;
  private readonly held: HeldQueue;
  private readonly dials = new DialDeadlines();
  private readonly ctx: EndpointContext;
  private active = 0;
  private total = 0;
  private refused = 0;
  private heldTotal = 0;
  private heldMaxMs = 0;

  constructor(
    private placed: PlacedRoute,
    log: Logger,
  ) {
    this.ctx = {
      route: placed.name,
      log,
      onHealthChange: () => this.tablesChanged(),
      holdTimeoutMs: () => this.holdTimeoutMs(),
    };
    this.balancer = balancerFor(placed.policy);
    this.settings = healthSettings(placed.healthCheck);
    this.held = new HeldQueue(HELD_LIMIT, this.holdTimeoutMs(), this.holdExpired);
    this.update(placed);
  }

  get name(): string {
    return this.placed.name;
  }

  /** No client connection left (a removed route may then be forgotten). */
  get idle(): boolean {
    return this.active === 0;
  }

  /** Takes the new table: surviving endpoints keep their connections and counters. */
  update(placed: PlacedRoute): void {
    if (placed.policy !== this.placed.policy) this.balancer = balancerFor(placed.policy);
    this.placed = placed;
    this.settings = healthSettings(placed.healthCheck);
    this.held.setTimeoutMs(this.holdTimeoutMs());
    const next = new Map<string, EndpointRuntime>();
    // Backends held for a cut-over until now: a new endpoint of one is the moved instance, just started.
    const wasHeld = new Set([...this.endpoints.values()].filter((ep) => ep.spec.held).map((ep) => ep.spec.backend));
    for (const spec of withLastGood(placed.endpoints, [...this.endpoints.values()], this.ctx)) {
      const ep = this.endpoints.get(spec.key) ?? this.takeLeaving(spec.key);
      if (ep) ep.update(spec, this.settings);
      const starting = !spec.held && wasHeld.has(spec.backend);
      next.set(spec.key, ep ?? new EndpointRuntime(spec, this.settings, this.ctx, starting));
    }
    for (const [key, ep] of this.endpoints) if (!next.has(key)) this.retireEndpoint(ep);
    for (const ep of this.leaving) if (ep.active === 0) this.leaving.delete(ep);
    this.endpoints = next;
    this.tablesChanged();
  }

  /** The route is gone: waiting clients are refused, open connections drain. */
  retire(): void {
    for (const ep of this.endpoints.values()) this.retireEndpoint(ep);
    this.endpoints = new Map();
    this.candidates = [];
    this.releaseHeld();
    this.held.stop();
  }

  /** Proxy shutdown: every connection, check and timer ends now. */
  destroy(): void {
    this.held.stop();
    this.dials.stop();
    for (let conn = this.held.shift(); conn; conn = this.held.shift()) conn.destroy();
    for (const ep of [...this.endpoints.values(), ...this.leaving]) ep.destroy();
  }

  accept(client: Socket): void {
    this.total++;
    this.active++;
    this.dispatch(new Connection(client, this, this.dials));
  }

  dialFailed(conn: Connection): void {
    if (conn.tried.length >= MAX_ATTEMPTS) this.refuse(conn);
    else this.dispatch(conn);
  }

  clientClosed(conn: Connection): void {
    this.active--;
    this.held.remove(conn);
  }

  stats(): RouteStats {
    for (const ep of this.leaving) if (ep.active === 0) this.leaving.delete(ep);
    const oldest = this.held.oldestAt;
    return {
      name: this.placed.name,
      revision: this.placed.revision,
      listening: false,
      error: '',
      endpoints: [...this.endpoints.values(), ...this.leaving].map((ep) => ep.stats()),
      heldTotal: this.heldTotal,
      heldNow: this.held.size,
      heldMaxMs: oldest > 0 ? Math.max(this.heldMaxMs, Date.now() - oldest) : this.heldMaxMs,
      refused: this.refused,
      active: this.active,
      total: this.total,
    };
  }

  private dispatch(conn: Connection): void {
    const ep = this.balancer.pick(this.currentCandidates(), conn.tried);
    if (ep) conn.dial(ep, this.settings.timeoutMs);
    else if (this.awaited()) this.hold(conn);
    else this.refuse(conn);
  }

  private hold(conn: Connection): void {
    conn.tried.length = 0;
    if (conn.heldSince === 0) {
      conn.heldSince = Date.now();
      this.heldTotal++;
    }
    if (!this.held.push(conn)) this.refuse(conn);
  }

  private refuse(conn: Connection): void {
    this.refused++;
    conn.client.destroy();
  }

  private readonly holdExpired = (conn: Connection): void => {
    this.noteWait(conn);
    this.refuse(conn);
  };

  private noteWait(conn: Connection): void {
    this.heldMaxMs = Math.max(this.heldMaxMs, Date.now() - conn.heldSince);
  }

  /** Endpoints or their health changed: pick afresh, and let waiting clients go or give up. */
  private tablesChanged(): void {
    this.candidates = undefined;
    this.releaseHeld();
  }

  private releaseHeld(): void {
    if (this.held.size === 0) return;
    if (this.currentCandidates().length > 0) {
      for (let conn = this.held.shift(); conn; conn = this.held.shift()) {
        this.noteWait(conn);
        this.dispatch(conn);
      }
    } else if (!this.awaited()) {
      for (let conn = this.held.shift(); conn; conn = this.held.shift()) {
        this.noteWait(conn);
        this.refuse(conn);
      }
    }
  }

  private currentCandidates(): EndpointRuntime[] {
    this.candidates ??= [...this.endpoints.values()].filter((ep) => ep.candidate);
    return this.candidates;
  }

  private awaited(): boolean {
    for (const ep of this.endpoints.values()) if (ep.awaited) return true;
    return false;
  }

  private retireEndpoint(ep: EndpointRuntime): void {
    ep.remove();
    if (ep.active > 0) this.leaving.add(ep);
  }

  private takeLeaving(key: string): EndpointRuntime | undefined {
    for (const ep of this.leaving) {
      if (ep.key !== key) continue;
      this.leaving.delete(ep);
      return ep;
    }
    return undefined;
  }

  private holdTimeoutMs(): number {
    return this.placed.holdTimeoutMs || ROUTE_DEFAULTS.holdTimeoutMs;
  }
}
