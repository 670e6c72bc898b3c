import { EventEmitter } from 'node:events';
import { gpuTrouble } from '../core/gpu-status.js';
import { ServerSeries } from '../core/series.js';
import { ServerState, type HostSample, type Server } from '../core/types.js';
import type { AgentHello } from '../gen/switchyard/v1/agent_gateway.js';
import { refreshLatest } from './latest-sample.js';
import { SharedStrings } from './shared-strings.js';
import type { StoredServer } from './store.js';

export interface RegistryOptions {
  /** A session quiet for longer than this is degraded (a function: it grows with the fleet, heartbeat-budget.ts). */
  heartbeatTtlMs: number | (() => number);
  /** A server disconnected (or never reconnected after a controller restart) this long is down. */
  graceMs: number;
  now?: () => number;
}

export interface ServerRecord {
  server: Server;
  series: ServerSeries;
  /** The live session, if any: a token that tells a stale session's close from the current one's. */
  session?: symbol;
  /** A scraped host: quiet this long, it is late (it answers at its own interval, not the agents' pace). */
  lateAfterMs?: number;
}

export interface RegistryEvents {
  /** A server was added, changed state or changed its details. */
  server: [Server];
  sample: [string, HostSample];
  /** A server was forgotten (`yard server remove`): its id. */
  removed: [string];
}

/**
 * Every server the controller knows, live or not, and its state machine:
 *   (store) unknown ─hello→ online ─late, or GPU tooling failing→ degraded ─beat (tooling fine)→ online
 *   online/degraded ─stream lost→ disconnected ─grace→ down;  any ─hello→ online
 * The agent's hello is the truth about a host; a reconnect with the same id is the same server.
 * A scraped host (no agent) goes the same way: a poll that answers is its hello and beat, a poll
 * that fails is a lost stream.
 */
export class Registry extends EventEmitter<RegistryEvents> {
  private readonly records = new Map<string, ServerRecord>();
  /** Records with a live session: the agents whose heartbeats the budget is shared among. */
  private sessions = 0;
  private beats = 0;
  private readonly now: () => number;
  private readonly strings = new SharedStrings();

  constructor(private readonly opts: RegistryOptions) {
    super();
    // One listener per attached watcher; they are bounded by the gRPC server, not here.
    this.setMaxListeners(0);
    this.now = opts.now ?? Date.now;
  }

  get heartbeatTtlMs(): number {
    const ttl = this.opts.heartbeatTtlMs;
    return typeof ttl === 'number' ? ttl : ttl();
  }

  /** Agents connected now. */
  get connected(): number {
    return this.sessions;
  }

  /** Heartbeats taken from live sessions since the controller started (Prometheus' yard_heartbeats_received_total). */
  get heartbeatsReceived(): number {
    return this.beats;
  }

  /** Loads a server known from the store, not yet heard from since this controller started. */
  restore(server: StoredServer): void {
    if (this.records.has(server.id)) return;
    const restored: Server = {
      ...server,
      state: ServerState.SERVER_STATE_UNKNOWN,
      stateSinceMs: this.now(),
      latest: undefined,
    };
    this.records.set(server.id, { server: restored, series: new ServerSeries() });
  }

  /** An agent said hello: it is online, as the same server if its id is known. */
  connect(received: AgentHello, session: symbol): { record: ServerRecord; superseded?: symbol } {
    const now = this.now();
    const hello = this.strings.hello(received);
    const existing = this.records.get(hello.serverId);
    const server: Server = {
      id: hello.serverId,
      name: hello.name || hello.hostname,
      hostname: hello.hostname,
      addresses: hello.addresses,
      advertiseAddress: hello.advertiseAddress,
      transferAddress: hello.transferAddress,
      mac: hello.mac,
      labels: hello.labels,
      location: hello.location,
      capabilities: hello.capabilities,
      host: hello.host,
      agentVersion: hello.agentVersion,
      state: ServerState.SERVER_STATE_ONLINE,
      firstSeenMs: existing?.server.firstSeenMs || now,
      lastSeenMs: now,
      stateSinceMs: now,
      latest: existing?.server.latest,
      // The operator's word on the host, not the agent's: a reconnect keeps it.
      cordoned: existing?.server.cordoned ?? false,
      drain: existing?.server.drain,
    };
    const record: ServerRecord = { server, series: existing?.series ?? new ServerSeries(), session };
    if (!existing?.session) this.sessions++;
    this.records.set(server.id, record);
    this.emit('server', server);
    return { record, superseded: existing?.session };
  }

  heartbeat(id: string, session: symbol, samples: HostSample[]): void {
    const record = this.records.get(id);
    if (!record || record.session !== session) return;
    this.beats++;
    const s = record.server;
    s.lastSeenMs = this.now();
    for (const sample of samples) {
      s.latest = refreshLatest(s.latest, this.strings.sample(sample));
      record.series.record(sample);
      this.emit('sample', id, sample);
    }
    // Heard from, so not late: degraded only while its GPU tooling fails (nvidia-smi erroring or hung).
    if (s.state === ServerState.SERVER_STATE_DEGRADED || s.state === ServerState.SERVER_STATE_ONLINE) {
      this.setState(record, gpuTrouble(s.latest) ? ServerState.SERVER_STATE_DEGRADED : ServerState.SERVER_STATE_ONLINE);
    }
  }

  /** A scraped host's exporters answered: it is online (degraded while its GPU exporter fails), with this sample. */
  scraped(details: StoredServer, sample: HostSample, lateAfterMs: number): void {
    const now = this.now();
    let record = this.records.get(details.id);
    if (!record) {
      this.restore(details);
      record = this.records.get(details.id)!;
    }
    record.lateAfterMs = lateAfterMs;
    const s = record.server;
    const changed =
      JSON.stringify([s.hostname, s.host, s.capabilities]) !==
      JSON.stringify([details.hostname, details.host, details.capabilities]);
    Object.assign(s, details, { firstSeenMs: s.firstSeenMs || now, lastSeenMs: now });
    s.latest = refreshLatest(s.latest, this.strings.sample(sample));
    record.series.record(sample);
    this.emit('sample', s.id, sample);
    const state = gpuTrouble(s.latest) ? ServerState.SERVER_STATE_DEGRADED : ServerState.SERVER_STATE_ONLINE;
    if (s.state !== state) this.setState(record, state);
    else if (changed) this.emit('server', s);
  }

  /** A scraped host's poll failed: disconnected, then down past the grace, as an agent that went away. */
  scrapeFailed(id: string): void {
    const record = this.records.get(id);
    const state = record?.server.state;
    if (record && (state === ServerState.SERVER_STATE_ONLINE || state === ServerState.SERVER_STATE_DEGRADED))
      this.setState(record, ServerState.SERVER_STATE_DISCONNECTED);
  }

  /** The session ended. Only the current session's end counts: a superseded one is ignored. */
  disconnect(id: string, session: symbol): void {
    const record = this.records.get(id);
    if (!record || record.session !== session) return;
    record.session = undefined;
    this.sessions--;
    this.setState(record, ServerState.SERVER_STATE_DISCONNECTED);
  }

  /** Moves servers along by the clock: late → degraded, past grace → down. */
  tick(): void {
    const now = this.now();
    const ttlMs = this.heartbeatTtlMs;
    for (const record of this.records.values()) {
      const s = record.server;
      switch (s.state) {
        case ServerState.SERVER_STATE_ONLINE:
          if (now - s.lastSeenMs > (record.lateAfterMs ?? ttlMs))
            this.setState(record, ServerState.SERVER_STATE_DEGRADED);
          break;
        case ServerState.SERVER_STATE_DISCONNECTED:
        case ServerState.SERVER_STATE_UNKNOWN:
          if (now - s.stateSinceMs > this.opts.graceMs) this.setState(record, ServerState.SERVER_STATE_DOWN);
          break;
      }
    }
  }

  get(idOrName: string): ServerRecord | undefined {
    const byId = this.records.get(idOrName);
    if (byId) return byId;
    for (const r of this.records.values()) if (r.server.name === idOrName) return r;
    return undefined;
  }

  list(): ServerRecord[] {
    return [...this.records.values()];
  }

  /** Forgets a server (`yard server remove`): it is no longer listed, and its samples go with it. */
  remove(id: string): void {
    if (this.records.get(id)?.session) this.sessions--;
    if (this.records.delete(id)) this.emit('removed', id);
  }

  /** An operator cordoned or uncordoned the host, or its drain moved on: told like any other change, and persisted. */
  mark(id: string, change: Pick<Server, 'cordoned' | 'drain'>): Server | undefined {
    const record = this.records.get(id);
    if (!record) return undefined;
    record.server.cordoned = change.cordoned;
    record.server.drain = change.drain;
    this.emit('server', record.server);
    return record.server;
  }

  get size(): number {
    return this.records.size;
  }

  private setState(record: ServerRecord, state: ServerState): void {
    if (record.server.state === state) return;
    record.server.state = state;
    record.server.stateSinceMs = this.now();
    this.emit('server', record.server);
  }
}
