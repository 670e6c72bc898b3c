import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { PlacedRoute } from '../../core/route.js';
import type { AgentLinks } from '../agent-links.js';
import type { Registry } from '../registry.js';

/** How long a proxy may take to bind its listeners and answer. */
const PLACE_TIMEOUT_MS = 10_000;
/** Workload snapshots arrive in bursts (one event per workload): one re-placement per burst. */
const DEBOUNCE_MS = 50;

export type ProxyLinks = Pick<AgentLinks, 'send' | 'connected'>;

export interface PlacementOptions {
  registry: Registry;
  links: ProxyLinks;
  log: Logger;
  /** The complete set of routes the proxy should serve now. */
  routesFor(serverId: string): PlacedRoute[];
  /** Every proxy that serves routes now. */
  proxies(): string[];
  /** Why the proxy's routes should not be re-placed yet ('' when they may be). */
  waitingFor(serverId: string): string;
  /** Runs `act` after every routing change before it (one change at a time). */
  serial<T>(act: () => Promise<T>): Promise<T>;
  /** A proxy's placement, its error or its connection changed: its routes' status did. */
  changed(serverId: string): void;
}

interface ProxyState {
  /** What it last acknowledged, on which session: a new session (a restarted agent) has nothing. */
  acked?: { key: string; session: symbol | undefined };
  /** Why the last re-placement failed ('' when it did not). */
  error: string;
  /** Why it is not re-placed yet ('' when it is not waiting). */
  waiting: string;
  connected: boolean;
}

/**
 * Keeps every proxy serving what the routing tables say: the complete set of its routes is
 * sent again when something it depends on changes, unless it already acknowledged that very
 * set on its current session. After a controller restart, a set whose workload backends are
 * unresolved only because their agents have not reported yet waits for them (or for their
 * grace to end): the proxy keeps serving what it has meanwhile.
 */
export class Placement {
  /** One per proxy that serves routes or is connected: bounded by the fleet. */
  private readonly state = new Map<string, ProxyState>();
  private readonly dirty = new Set<string>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly o: PlacementOptions) {}

  nameOf(serverId: string): string {
    return this.o.registry.get(serverId)?.server.name ?? serverId;
  }

  /** Sends the proxy its complete set and waits for its answer; throws what the agent said. */
  async place(serverId: string, routes: PlacedRoute[]): Promise<void> {
    await this.o.links.send(serverId, { $case: 'routes', value: { routes } }, PLACE_TIMEOUT_MS, this.nameOf(serverId));
    const s = this.stateOf(serverId);
    s.acked = { key: JSON.stringify(routes), session: this.o.registry.get(serverId)?.session };
    s.error = '';
  }

  /** What the proxy holds is unknown (a revert failed): the next re-placement sends it all. */
  forget(serverId: string): void {
    const s = this.state.get(serverId);
    if (s) s.acked = undefined;
  }

  error(serverId: string): string {
    return this.state.get(serverId)?.error ?? '';
  }

  /** Re-places these proxies (all of them when none are named) shortly. */
  soon(serverIds?: Iterable<string>): void {
    for (const id of serverIds ?? [...this.o.proxies(), ...this.state.keys()]) this.dirty.add(id);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const ids = [...this.dirty];
      this.dirty.clear();
      this.o
        .serial(async () => {
          for (const id of ids) await this.reconcile(id);
        })
        .catch((err: unknown) => this.o.log.error('could not re-place routes', { error: errorMessage(err) }));
    }, DEBOUNCE_MS);
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty.clear();
  }

  private stateOf(serverId: string): ProxyState {
    const known = this.state.get(serverId);
    if (known) return known;
    const s: ProxyState = { error: '', waiting: '', connected: false };
    this.state.set(serverId, s);
    return s;
  }

  private async reconcile(serverId: string): Promise<void> {
    const s = this.stateOf(serverId);
    const connected = this.o.links.connected(serverId);
    const flipped = s.connected !== connected;
    s.connected = connected;
    const routes = this.o.routesFor(serverId);
    const session = this.o.registry.get(serverId)?.session;
    const current = s.acked?.key === JSON.stringify(routes) && s.acked.session === session;
    const waiting = connected && !current ? this.o.waitingFor(serverId) : '';
    if (waiting !== s.waiting && waiting)
      this.o.log.info('routes not re-placed yet: the proxy keeps what it serves', {
        server: this.nameOf(serverId),
        why: waiting,
      });
    s.waiting = waiting;
    if (connected && !current && !waiting) {
      try {
        await this.place(serverId, routes);
        this.o.log.info('routes placed', { server: this.nameOf(serverId), routes: routes.length });
      } catch (err) {
        s.error = `not applied on ${this.nameOf(serverId)}: ${errorMessage(err)}`;
        this.o.log.warn('could not place routes on a proxy; retried on the next change', {
          server: this.nameOf(serverId),
          error: errorMessage(err),
        });
      }
    }
    if (flipped || (connected && !current)) this.o.changed(serverId);
    // A connected proxy keeps its state even with no routes: it got the empty set on this session.
    if (routes.length === 0 && !connected) this.state.delete(serverId);
  }
}
