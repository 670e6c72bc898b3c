import type { RouteTable } from '../core/domain.js';
import type { Deployment } from '../core/deployment.js';
import type { RouteChange } from '../core/route.js';
import type { Server } from '../core/types.js';
import type { Migration } from '../core/workload.js';
import type { AuditEntry, ScrapeTarget } from '../gen/switchyard/v1/control.js';
import { staleWrite, type FleetStore, type Versioned } from './fleet-store.js';
import type { IssuedRecord, Store, StoredServer } from './store.js';

/**
 * Revisions beside one lowdb Store: lowdb has none, and one process owns the file, so a counter
 * in memory is enough to make its compare-and-swap behave as etcd's does. They start again at
 * each open; a revision is only ever compared within the process that read it.
 */
class Revisions {
  private last = 0;
  private readonly byKey = new Map<string, number>();

  of(key: string, present: boolean): number {
    if (!present) return 0;
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    return this.bump(key);
  }

  bump(key: string): number {
    const rev = ++this.last;
    this.byKey.set(key, rev);
    return rev;
  }

  forget(key: string): void {
    this.byKey.delete(key);
  }

  /** Forgets the keys with that prefix that are not in `kept`. */
  retain(prefix: string, kept: Set<string>): void {
    for (const key of this.byKey.keys()) if (key.startsWith(prefix) && !kept.has(key)) this.byKey.delete(key);
  }
}

const shared = new WeakMap<Store, Revisions>();

/**
 * The lowdb Store behind the FleetStore interface: each write is flushed to the file before it
 * resolves. Views made over the same Store share its revisions, as two clients of one etcd do.
 */
export class LowdbFleetStore implements FleetStore {
  private readonly revs: Revisions;

  constructor(private readonly store: Store) {
    const revs = shared.get(store) ?? new Revisions();
    shared.set(store, revs);
    this.revs = revs;
  }

  get controllerId(): string {
    return this.store.controllerId;
  }

  async servers(): Promise<StoredServer[]> {
    return this.store.servers();
  }

  async putServer(server: Server): Promise<void> {
    this.store.putServer(server);
    await this.store.flush();
  }

  async removeServer(id: string): Promise<void> {
    this.store.removeServer(id);
    await this.store.flush();
  }

  async certificates(nowMs = Date.now()): Promise<IssuedRecord[]> {
    return this.store.certificates(nowMs);
  }

  async putCertificate(record: IssuedRecord, nowMs = Date.now()): Promise<void> {
    this.store.putCertificate(record, nowMs);
    await this.store.flush();
  }

  async revokeCertificates(kind: IssuedRecord['kind'], name: string, by: string, nowMs = Date.now()) {
    const serials = this.store.revokeCertificates(kind, name, by, nowMs);
    await this.store.flush();
    return serials;
  }

  async migrations(): Promise<Versioned<Migration>[]> {
    return this.store.migrations().map((m) => ({ value: m, revision: this.revs.of(migrationKey(m.id), true) }));
  }

  async migration(id: string): Promise<Versioned<Migration> | undefined> {
    const m = this.store.migrations().find((x) => x.id === id);
    return m && { value: m, revision: this.revs.of(migrationKey(id), true) };
  }

  async putMigration(m: Migration, expected: number): Promise<number> {
    const key = migrationKey(m.id);
    const actual = this.revs.of(
      key,
      this.store.migrations().some((x) => x.id === m.id),
    );
    if (actual !== expected) throw staleWrite(`migration ${m.id}`, expected, actual);
    this.store.putMigration(m);
    const rev = this.revs.bump(key);
    // The history cap may have dropped older finished migrations: their revisions go with them.
    this.revs.retain(migrationKey(''), new Set(this.store.migrations().map((x) => migrationKey(x.id))));
    await this.store.flush();
    return rev;
  }

  async audit(limit = 0): Promise<AuditEntry[]> {
    return this.store.audit(limit);
  }

  async putAudit(entry: AuditEntry): Promise<void> {
    this.store.putAudit(entry);
    await this.store.flush();
  }

  async routes(): Promise<Versioned<RouteTable>[]> {
    return this.store.routes().map((r) => ({ value: r, revision: this.revs.of(routeKey(r.name), true) }));
  }

  async route(name: string): Promise<Versioned<RouteTable> | undefined> {
    const r = this.store.route(name);
    return r && { value: r, revision: this.revs.of(routeKey(name), true) };
  }

  async putRoute(route: RouteTable, expected: number): Promise<number> {
    const key = routeKey(route.name);
    const actual = this.revs.of(key, this.store.route(route.name) !== undefined);
    if (actual !== expected) throw staleWrite(`route ${route.name}`, expected, actual);
    this.store.putRoute(route);
    const rev = this.revs.bump(key);
    await this.store.flush();
    return rev;
  }

  async removeRoute(name: string, expected: number): Promise<void> {
    const key = routeKey(name);
    const actual = this.revs.of(key, this.store.route(name) !== undefined);
    if (actual !== expected) throw staleWrite(`route ${name}`, expected, actual);
    this.store.removeRoute(name);
    this.revs.forget(key);
    await this.store.flush();
  }

  async deployments(): Promise<Versioned<Deployment>[]> {
    return this.store.deployments().map((d) => ({ value: d, revision: this.revs.of(deploymentKey(d.name), true) }));
  }

  async deployment(name: string): Promise<Versioned<Deployment> | undefined> {
    const d = this.store.deployment(name);
    return d && { value: d, revision: this.revs.of(deploymentKey(name), true) };
  }

  async putDeployment(d: Deployment, expected: number): Promise<number> {
    const key = deploymentKey(d.name);
    const actual = this.revs.of(key, this.store.deployment(d.name) !== undefined);
    if (actual !== expected) throw staleWrite(`deployment ${d.name}`, expected, actual);
    this.store.putDeployment(d);
    const rev = this.revs.bump(key);
    await this.store.flush();
    return rev;
  }

  async removeDeployment(name: string, expected: number): Promise<void> {
    const key = deploymentKey(name);
    const actual = this.revs.of(key, this.store.deployment(name) !== undefined);
    if (actual !== expected) throw staleWrite(`deployment ${name}`, expected, actual);
    this.store.removeDeployment(name);
    this.revs.forget(key);
    await this.store.flush();
  }

  async scrapeTargets(): Promise<ScrapeTarget[]> {
    return this.store.scrapeTargets();
  }

  async putScrapeTarget(target: ScrapeTarget): Promise<void> {
    this.store.putScrapeTarget(target);
    await this.store.flush();
  }

  async removeScrapeTarget(name: string): Promise<void> {
    this.store.removeScrapeTarget(name);
    await this.store.flush();
  }

  async routeChanges(): Promise<RouteChange[]> {
    return this.store.routeChanges();
  }

  async addRouteChange(change: RouteChange): Promise<void> {
    this.store.addRouteChange(change);
    await this.store.flush();
  }

  async close(): Promise<void> {
    await this.store.flush();
  }
}

const migrationKey = (id: string) => `migration\0${id}`;
const routeKey = (name: string) => `route\0${name}`;
const deploymentKey = (name: string) => `deployment\0${name}`;
