import type { FleetChange, FleetSource } from '../../core/fleet.js';
import { stateName } from '../../core/types.js';
import { migrationDone, MigrationPhase, phaseWords, strategies, type Migration } from '../../core/workload.js';
import type { AuditEntry } from '../../gen/switchyard/v1/control.js';
import { serverName } from '../render/migration.js';
import { versionWeights } from '../render/route.js';
import { stateWithExit } from '../workload-keys.js';

/** Events kept: about a day of a busy fleet's changes, a bounded amount of memory for a wall's week. */
export const EVENTS_KEPT = 1000;

export type EventKind = 'controller' | 'server' | 'workload' | 'migration' | 'route' | 'audit';

/** Something that happened in the fleet, as the Events view lists it. */
export interface FleetEvent {
  /** Its place in the order events came in: the row's key. */
  readonly seq: number;
  readonly atMs: number;
  readonly kind: EventKind;
  /** What it happened to: a server, workload, migration, service, or the audit entry's target. */
  readonly subject: string;
  readonly text: string;
  /** Something went wrong (a server down, a workload that failed, a refused action). */
  readonly alarm: boolean;
  /** The server it happened on, when there is one: Enter opens it. */
  readonly serverId?: string;
}

/** An event as a step tells it: the log numbers it, and stamps it now unless it says when. */
type News = Omit<FleetEvent, 'seq' | 'atMs'> & { atMs?: number };

/** Server states worth a red line. */
const BAD_SERVER = new Set(['disconnected', 'down', 'degraded']);

/**
 * What happened in the fleet, newest first, from the source's change stream: a change is
 * compared with what was known before (a server's state, a workload's state and exit, a
 * migration's phase, a route's revision), so only real changes become events; audit entries
 * come as they are. What was there before the log started is the baseline, not news, however
 * late the source tells it (an attached one sends workloads after its snapshot). While the
 * controller is unreachable nothing is news: the source's stand-ins (every host unknown, the
 * lists sent again on reconnect) are compared with what was known before it went. At most
 * `kept` events, the oldest dropped first.
 */
export class EventLog {
  /** Oldest first. */
  private readonly ring: FleetEvent[] = [];
  private seq = 0;
  private readonly servers = new Map<string, string>();
  private readonly workloads = new Map<string, string>();
  private readonly migrations = new Map<string, MigrationPhase>();
  private readonly routes = new Map<string, number>();
  /** When the log started: what began before is the baseline. */
  private readonly since: number;
  /** The controller is unreachable: changes are the source's stand-ins, not news. */
  private unreachable = false;

  constructor(
    private readonly source: FleetSource,
    private readonly now: () => number,
    readonly kept = EVENTS_KEPT,
  ) {
    this.since = now();
    for (const { server } of source.list()) this.servers.set(server.id, stateName(server.state));
    for (const w of source.workloads()) this.workloads.set(w.spec.name, stateWithExit(w));
    for (const m of source.migrations()) this.migrations.set(m.id, m.phase);
    for (const r of source.routes()) this.routes.set(r.status.route.name, r.status.route.revision);
  }

  /** Newest first. */
  list(): FleetEvent[] {
    return this.ring.slice().reverse();
  }

  /** Every event since the start, dropped ones included. */
  get total(): number {
    return this.seq;
  }

  observe(change: FleetChange): void {
    if (change.kind === 'connection') this.connection(change.connected);
    else if (this.unreachable) return;
    else if (change.kind === 'server') this.server(change.id);
    else if (change.kind === 'workload') this.workload(change.name);
    else if (change.kind === 'migration') this.migration(change.id);
    else if (change.kind === 'route' && !change.counters) this.route(change.name);
    else if (change.kind === 'audit') this.audit(change.entry);
  }

  private connection(connected: boolean): void {
    if (this.unreachable !== connected) return;
    this.unreachable = !connected;
    const text = connected ? 'reachable again' : 'unreachable: the views show the fleet as it was';
    this.add({ kind: 'controller', subject: this.source.controllerAddress, text, alarm: !connected });
  }

  private server(id: string): void {
    const fs = this.source.get(id);
    if (!fs) return;
    const state = stateName(fs.server.state);
    const was = this.servers.get(id);
    if (was === state) return;
    this.servers.set(id, state);
    if (was === undefined && fs.server.stateSinceMs < this.since) return;
    this.add({
      kind: 'server',
      subject: fs.server.name,
      text: was === undefined ? `joined, ${state}` : `${was} → ${state}`,
      alarm: BAD_SERVER.has(state),
      serverId: id,
    });
  }

  private workload(name: string): void {
    const w = this.source.workloads().find((x) => x.spec.name === name);
    if (!w) {
      this.removed('workload', this.workloads, name);
      return;
    }
    const was = this.workloads.get(name);
    const state = stateWithExit(w);
    if (was === state) return;
    this.workloads.set(name, state);
    if (was === undefined && w.startedMs < this.since) return;
    const on = serverName(this.source, w.serverId);
    const failed = /^(exited|backoff)/.test(state) && state !== 'exited 0';
    this.add({
      kind: 'workload',
      subject: name,
      text: was === undefined ? `${state} on ${on} (new)` : `${was} → ${state} on ${on}`,
      alarm: failed,
      serverId: w.serverId,
    });
  }

  private migration(id: string): void {
    const m = this.source.migrations().find((x) => x.id === id);
    if (!m) return;
    const was = this.migrations.get(id);
    if (was === m.phase) return;
    this.migrations.set(id, m.phase);
    if (was === undefined && m.createdMs < this.since) return;
    const committed = m.phase === MigrationPhase.MIGRATION_PHASE_COMMITTED;
    // Where the workload runs now: the target once committed, else still its source.
    const serverId = committed ? m.targetServerId : m.sourceServerId;
    if (was === undefined)
      this.add({
        kind: 'migration',
        subject: m.workload,
        text: `started: ${route(this.source, m)}, ${strategies.name(m.strategy)} (${id.slice(0, 8)})`,
        alarm: false,
        serverId,
      });
    else if (migrationDone(m.phase))
      this.add({
        kind: 'migration',
        subject: m.workload,
        text: `${phaseWords(m.phase)}: ${route(this.source, m)}${m.error ? `: ${m.error}` : ''}`,
        alarm: !committed,
        serverId,
      });
  }

  private route(name: string): void {
    const r = this.source.routes().find((x) => x.status.route.name === name);
    if (!r) {
      this.removed('route', this.routes, name);
      return;
    }
    const was = this.routes.get(name);
    const revision = r.status.route.revision;
    if (was === revision) return;
    this.routes.set(name, revision);
    if (was === undefined && r.status.route.updatedMs < this.since) return;
    const by = r.status.route.updatedBy ? ` by ${r.status.route.updatedBy}` : '';
    const weights = versionWeights(r.status)
      .map((v) => `${v.version} ${v.weight}`)
      .join(', ');
    this.add({
      kind: 'route',
      subject: name,
      text: `rev ${revision}${by}${weights ? `: ${weights}` : ''}`,
      alarm: false,
      serverId: r.status.serverId,
    });
  }

  private audit(entry: AuditEntry): void {
    const outcome = entry.ok ? '' : ` failed: ${entry.error}`;
    this.add({
      kind: 'audit',
      subject: entry.target,
      text: `${entry.who}: ${entry.action}${outcome}`,
      alarm: !entry.ok,
      atMs: entry.atMs,
    });
  }

  /** A workload or route the source no longer has: removed, if it was known. */
  private removed(kind: EventKind, known: Map<string, unknown>, name: string): void {
    if (known.delete(name)) this.add({ kind, subject: name, text: 'removed', alarm: false });
  }

  private add(news: News): void {
    this.ring.push({ ...news, seq: this.seq++, atMs: news.atMs ?? this.now() });
    if (this.ring.length > this.kept) this.ring.splice(0, this.ring.length - this.kept);
  }
}

/** "train → gpu-02": where a migration moves its workload. */
function route(source: FleetSource, m: Migration): string {
  return `${serverName(source, m.sourceServerId)} → ${serverName(source, m.targetServerId)}`;
}
