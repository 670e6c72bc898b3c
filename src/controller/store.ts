import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Low, type Adapter } from 'lowdb';
import { YardError, errorMessage } from '../core/errors.js';
import type { RouteChange } from '../core/route.js';
import type { Server } from '../core/types.js';
import { migrationDone, type Migration } from '../core/workload.js';
import type { RouteTable } from '../core/domain.js';
import type { Deployment } from '../core/deployment.js';
import type { AuditEntry, ScrapeTarget } from '../gen/switchyard/v1/control.js';
import { describeIssue } from '../core/validate.js';
import { normalSerial } from './pki/certificate-check.js';
import { storeSchema } from './store-schema.js';

/** What the store keeps of a server: its identity and last word, never its metrics. */
export type StoredServer = Omit<Server, 'latest' | 'state' | 'stateSinceMs'>;

export interface StoreData {
  version: 1;
  controllerId: string;
  servers: Record<string, StoredServer>;
  /** The migration journal: live ones and recent history. */
  migrations?: Record<string, Migration>;
  /** The audit trail, oldest first. */
  audit?: AuditEntry[];
  /** Routing tables by service name. */
  routes?: Record<string, RouteTable>;
  /** Changes to the routing tables, oldest first. */
  routeChanges?: RouteChange[];
  /** Before TLS: sha256 of each joined agent's key. Read from older stores, no longer used. */
  agentKeys?: Record<string, string>;
  /** Every client certificate this controller issued and that has not expired: agents' and operators'. */
  certificates?: IssuedRecord[];
  /** Deployments by name: what the controller keeps running (their replicas are workloads). */
  deployments?: Record<string, Deployment>;
  /** Hosts without an agent that the controller polls, by name. */
  scrapeTargets?: Record<string, ScrapeTarget>;
}

/** A client certificate as the controller remembers it: whose, until when, and whether revoked. */
export interface IssuedRecord {
  serial: string;
  kind: 'agent' | 'operator';
  /** The agent's server id, or the operator's name. */
  name: string;
  /** Operators: viewer, operator or admin. */
  role: string;
  issuedMs: number;
  notAfterMs: number;
  issuedBy: string;
  revokedMs: number;
  revokedBy: string;
}

/** Finished migrations kept as history; older ones are dropped. */
export const MIGRATION_HISTORY = 200;

/** Audit entries kept; older ones are dropped. */
export const AUDIT_HISTORY = 1000;

/** Route changes kept; older ones are dropped. */
export const ROUTE_CHANGE_HISTORY = 500;

export interface OpenStoreOptions {
  file: string;
  /** Start with an empty store when the file is unreadable (a copy is still kept). */
  reset?: boolean;
}

/** What changed in memory since the last flush: what a backend that writes records one by one must write. */
export interface StoreChanges {
  servers: Set<string>;
  serversRemoved: Set<string>;
  certificates: Set<string>;
  migrations: Set<string>;
  routes: Set<string>;
  routesRemoved: Set<string>;
  deployments: Set<string>;
  deploymentsRemoved: Set<string>;
  scrapeTargets: Set<string>;
  scrapeTargetsRemoved: Set<string>;
  audit: AuditEntry[];
  routeChanges: RouteChange[];
}

export function noChanges(): StoreChanges {
  return {
    servers: new Set(),
    serversRemoved: new Set(),
    certificates: new Set(),
    migrations: new Set(),
    routes: new Set(),
    routesRemoved: new Set(),
    deployments: new Set(),
    deploymentsRemoved: new Set(),
    scrapeTargets: new Set(),
    scrapeTargetsRemoved: new Set(),
    audit: [],
    routeChanges: [],
  };
}

/** Where the store's data is kept: one JSON file (lowdb), or etcd (store-mirror.ts). */
export interface StoreBackend {
  /** For messages: "store file /x/store.json", "etcd at h1:2379,h2:2379". */
  readonly where: string;
  /** Makes what changed durable; resolves once the backend has it. One write at a time. */
  write(data: StoreData, changes: StoreChanges): Promise<void>;
  close(): Promise<void>;
}

/** A record another controller changed, as the backend heard it (etcd's watch). */
export type RemoteChange =
  | { kind: 'server'; id: string }
  | { kind: 'certificate'; serial: string }
  | { kind: 'migration'; id: string }
  | { kind: 'route'; name: string }
  | { kind: 'deployment'; name: string }
  | { kind: 'scrapeTarget'; name: string }
  | { kind: 'audit' }
  | { kind: 'routeChange' };

/**
 * The controller's store: the fleet's durable state in memory, read synchronously by every part,
 * and written to its backend on flush(). Callers that must not act on what could still be lost
 * await flush(); a backend shared by several controllers (etcd) refuses a stale write of a
 * migration or a route there, with ABORTED, and hears the other controllers' changes.
 *
 * The embedded backend is lowdb, one JSON file. A corrupt file is never silently replaced: it is
 * copied aside and opening fails with an error naming both files, unless the operator asked for
 * --reset-store.
 */
export class Store {
  private changes = noChanges();
  private writing: Promise<void> = Promise.resolve();
  private readonly remoteListeners: ((c: RemoteChange) => void)[] = [];

  constructor(
    private readonly data: StoreData,
    readonly backend: StoreBackend,
    /** Where a corrupt file was copied to when --reset-store started clean. */
    readonly resetFrom?: string,
  ) {}

  /** Revoked serials (normalised), made from the certificates when first asked after a change. */
  private revoked?: Set<string>;

  static async open({ file, reset = false }: OpenStoreOptions): Promise<Store> {
    await ownerOnlyDir(dirname(file));
    const fresh: StoreData = { version: 1, controllerId: randomUUID(), servers: {} };
    const db = new Low<StoreData>(new OwnerOnlyJsonFile<StoreData>(file), fresh);
    const backend = new FileBackend(db, file);
    const read = await readStore(file);
    if (read.data) {
      db.data = read.data;
      await chmod(file, 0o600);
      return new Store(db.data, backend);
    }
    if (read.problem === undefined) {
      // Written at once: the controller's id must survive a restart before anything else is stored.
      await db.write();
      return new Store(db.data, backend);
    }

    const copy = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await writeFile(copy, await readFile(file), { mode: 0o600, flag: 'wx' });
    if (!reset) {
      throw new YardError(
        'STORE_CORRUPT',
        `store file ${file} ${read.problem}; a copy was kept at ${copy}. Fix the file, or start with --reset-store to begin with an empty store`,
        { file, copy, ...(read.field !== undefined && { field: read.field }) },
      );
    }
    await db.write();
    return new Store(db.data, backend, copy);
  }

  get controllerId(): string {
    return this.data.controllerId;
  }

  servers(): StoredServer[] {
    return Object.values(this.data.servers);
  }

  server(id: string): StoredServer | undefined {
    return Object.hasOwn(this.data.servers, id) ? this.data.servers[id] : undefined;
  }

  putServer(server: Server): void {
    const { latest: _latest, state: _state, stateSinceMs: _since, ...stored } = server;
    this.data.servers[server.id] = stored;
    this.changes.servers.add(server.id);
    this.changes.serversRemoved.delete(server.id);
  }

  removeServer(id: string): void {
    delete this.data.servers[id];
    this.changes.servers.delete(id);
    this.changes.serversRemoved.add(id);
  }

  /** Issued certificates not yet expired (expired ones are forgotten: they admit no one anyway). */
  certificates(nowMs = Date.now()): IssuedRecord[] {
    return (this.data.certificates ?? []).filter((c) => c.notAfterMs > nowMs);
  }

  putCertificate(record: IssuedRecord, nowMs = Date.now()): void {
    this.revoked = undefined;
    this.data.certificates = [...this.certificates(nowMs), record];
    this.changes.certificates.add(record.serial);
  }

  /** Revokes every certificate of that kind and name still in force; returns their serials. */
  revokeCertificates(kind: IssuedRecord['kind'], name: string, by: string, nowMs = Date.now()): string[] {
    this.revoked = undefined;
    const revoked: string[] = [];
    for (const c of this.certificates(nowMs)) {
      if (c.kind !== kind || c.name !== name || c.revokedMs > 0) continue;
      c.revokedMs = nowMs;
      c.revokedBy = by;
      revoked.push(c.serial);
      this.changes.certificates.add(c.serial);
    }
    return revoked;
  }

  /** Checked on every call over TCP: a set, made again after each change to the certificates. */
  isRevoked(serial: string): boolean {
    this.revoked ??= new Set(
      (this.data.certificates ?? []).filter((c) => c.revokedMs > 0).map((c) => normalSerial(c.serial)),
    );
    return this.revoked.has(normalSerial(serial));
  }

  migrations(): Migration[] {
    return Object.values(this.data.migrations ?? {}).sort((a, b) => b.createdMs - a.createdMs);
  }

  migration(id: string): Migration | undefined {
    const all = this.data.migrations;
    return all && Object.hasOwn(all, id) ? all[id] : undefined;
  }

  putMigration(m: Migration): void {
    this.data.migrations ??= {};
    const all = this.data.migrations;
    all[m.id] = m;
    this.changes.migrations.add(m.id);
    const done = Object.values(all)
      .filter((x) => migrationDone(x.phase))
      .sort((a, b) => b.createdMs - a.createdMs);
    for (const old of done.slice(MIGRATION_HISTORY)) delete all[old.id];
  }

  /** Newest first; `limit` 0 means every entry kept. */
  audit(limit = 0): AuditEntry[] {
    const all = this.data.audit ?? [];
    return all.slice(limit > 0 ? -limit : 0).reverse();
  }

  putAudit(entry: AuditEntry): void {
    this.data.audit ??= [];
    const all = this.data.audit;
    all.push(entry);
    if (all.length > AUDIT_HISTORY) all.splice(0, all.length - AUDIT_HISTORY);
    this.changes.audit.push(entry);
  }

  /** By name. */
  routes(): RouteTable[] {
    return Object.values(this.data.routes ?? {}).sort((a, b) => a.name.localeCompare(b.name));
  }

  route(name: string): RouteTable | undefined {
    // Own keys only: "constructor" is a valid service name.
    const all = this.data.routes;
    return all && Object.hasOwn(all, name) ? all[name] : undefined;
  }

  putRoute(route: RouteTable): void {
    this.data.routes ??= {};
    this.data.routes[route.name] = route;
    this.changes.routes.add(route.name);
    this.changes.routesRemoved.delete(route.name);
  }

  removeRoute(name: string): void {
    delete this.data.routes?.[name];
    this.changes.routes.delete(name);
    this.changes.routesRemoved.add(name);
  }

  /** By name. */
  deployments(): Deployment[] {
    return Object.values(this.data.deployments ?? {}).sort((a, b) => a.name.localeCompare(b.name));
  }

  deployment(name: string): Deployment | undefined {
    const all = this.data.deployments;
    return all && Object.hasOwn(all, name) ? all[name] : undefined;
  }

  putDeployment(d: Deployment): void {
    this.data.deployments ??= {};
    this.data.deployments[d.name] = d;
    this.changes.deployments.add(d.name);
    this.changes.deploymentsRemoved.delete(d.name);
  }

  removeDeployment(name: string): void {
    delete this.data.deployments?.[name];
    this.changes.deployments.delete(name);
    this.changes.deploymentsRemoved.add(name);
  }

  /** By name. */
  scrapeTargets(): ScrapeTarget[] {
    return Object.values(this.data.scrapeTargets ?? {}).sort((a, b) => a.name.localeCompare(b.name));
  }

  scrapeTarget(name: string): ScrapeTarget | undefined {
    const all = this.data.scrapeTargets;
    return all && Object.hasOwn(all, name) ? all[name] : undefined;
  }

  putScrapeTarget(target: ScrapeTarget): void {
    this.data.scrapeTargets ??= {};
    this.data.scrapeTargets[target.name] = target;
    this.changes.scrapeTargets.add(target.name);
    this.changes.scrapeTargetsRemoved.delete(target.name);
  }

  removeScrapeTarget(name: string): void {
    delete this.data.scrapeTargets?.[name];
    this.changes.scrapeTargets.delete(name);
    this.changes.scrapeTargetsRemoved.add(name);
  }

  /** Newest first. */
  routeChanges(): RouteChange[] {
    return [...(this.data.routeChanges ?? [])].reverse();
  }

  addRouteChange(change: RouteChange): void {
    this.data.routeChanges ??= [];
    const all = this.data.routeChanges;
    all.push(change);
    if (all.length > ROUTE_CHANGE_HISTORY) all.splice(0, all.length - ROUTE_CHANGE_HISTORY);
    this.changes.routeChanges.push(change);
  }

  /**
   * Writes what changed since the last flush; resolves once the backend has it. A stale write
   * (another controller changed the record first) rejects with ABORTED, and the store then holds
   * that controller's version.
   */
  async flush(): Promise<void> {
    const changes = this.changes;
    this.changes = noChanges();
    const done = this.writing.then(() => this.backend.write(this.data, changes));
    this.writing = done.catch(() => undefined);
    await done;
  }

  /** What a backend could not write goes back in the queue for the next flush (it is still in memory). */
  requeue(c: StoreChanges): void {
    const q = this.changes;
    for (const id of c.servers) if (!q.serversRemoved.has(id)) q.servers.add(id);
    for (const id of c.serversRemoved) if (!q.servers.has(id)) q.serversRemoved.add(id);
    for (const serial of c.certificates) q.certificates.add(serial);
    for (const id of c.migrations) q.migrations.add(id);
    for (const name of c.routes) if (!q.routesRemoved.has(name)) q.routes.add(name);
    for (const name of c.routesRemoved) if (!q.routes.has(name)) q.routesRemoved.add(name);
    for (const name of c.deployments) if (!q.deploymentsRemoved.has(name)) q.deployments.add(name);
    for (const name of c.deploymentsRemoved) if (!q.deployments.has(name)) q.deploymentsRemoved.add(name);
    for (const name of c.scrapeTargets) if (!q.scrapeTargetsRemoved.has(name)) q.scrapeTargets.add(name);
    for (const name of c.scrapeTargetsRemoved) if (!q.scrapeTargets.has(name)) q.scrapeTargetsRemoved.add(name);
    q.audit.unshift(...c.audit);
    q.routeChanges.unshift(...c.routeChanges);
  }

  /** Hears the records other controllers change (only a shared backend has any). */
  onRemote(listener: (c: RemoteChange) => void): void {
    this.remoteListeners.push(listener);
  }

  /**
   * A record as another controller wrote it (undefined: it removed it), from the shared backend.
   * Not a change of ours: nothing is written back.
   */
  applyRemote(c: RemoteChange, value?: unknown): void {
    const d = this.data;
    switch (c.kind) {
      case 'server':
        if (value) d.servers[c.id] = value as StoredServer;
        else delete d.servers[c.id];
        break;
      case 'certificate': {
        const rest = (d.certificates ?? []).filter((x) => x.serial !== c.serial);
        d.certificates = value ? [...rest, value as IssuedRecord] : rest;
        this.revoked = undefined;
        break;
      }
      case 'migration':
        d.migrations ??= {};
        if (value) d.migrations[c.id] = value as Migration;
        else delete d.migrations[c.id];
        break;
      case 'route':
        d.routes ??= {};
        if (value) d.routes[c.name] = value as RouteTable;
        else delete d.routes[c.name];
        break;
      case 'deployment':
        d.deployments ??= {};
        if (value) d.deployments[c.name] = value as Deployment;
        else delete d.deployments[c.name];
        break;
      case 'scrapeTarget':
        d.scrapeTargets ??= {};
        if (value) d.scrapeTargets[c.name] = value as ScrapeTarget;
        else delete d.scrapeTargets[c.name];
        break;
      case 'audit': {
        d.audit ??= [];
        d.audit.push(value as AuditEntry);
        if (d.audit.length > AUDIT_HISTORY) d.audit.splice(0, d.audit.length - AUDIT_HISTORY);
        break;
      }
      case 'routeChange': {
        d.routeChanges ??= [];
        d.routeChanges.push(value as RouteChange);
        if (d.routeChanges.length > ROUTE_CHANGE_HISTORY)
          d.routeChanges.splice(0, d.routeChanges.length - ROUTE_CHANGE_HISTORY);
        break;
      }
    }
    for (const l of this.remoteListeners) l(c);
  }

  async close(): Promise<void> {
    await this.writing;
    await this.backend.close();
  }
}

/** lowdb: the whole data, one JSON file, on every flush. */
class FileBackend implements StoreBackend {
  readonly where: string;
  constructor(
    private readonly db: Low<StoreData>,
    readonly file: string,
  ) {
    this.where = `store file ${file}`;
  }

  async write(): Promise<void> {
    await this.db.write();
  }

  async close(): Promise<void> {}
}

type ReadResult =
  | { data: StoreData; problem?: undefined; field?: undefined }
  | { data?: undefined; problem?: string; field?: string };

/** The store file checked against its schema: its data, nothing (no file yet), or what is wrong. */
async function readStore(file: string): Promise<ReadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { problem: `is not valid JSON (${errorMessage(err)})` };
  }
  const parsed = storeSchema.safeParse(json);
  if (parsed.success) return { data: parsed.data };
  const { field, message } = describeIssue(parsed.error);
  return { problem: field ? `has a bad field: ${field} ${message}` : `is not a store (${message})`, field };
}

/**
 * The data dir holds the journal, the audit trail and the checkpoints: owner-only, whatever the
 * umask. One of ours that others can read is tightened; a shared one (sticky, as /tmp) is refused.
 */
async function ownerOnlyDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await stat(dir);
  if ((st.mode & 0o077) === 0 || st.uid !== process.getuid?.()) return;
  if (st.mode & 0o1000)
    throw new YardError(
      'INVALID_ARGUMENT',
      `data dir ${dir} is a shared directory (like /tmp): give --data-dir a directory of its own, e.g. ${join(dir, 'switchyard')}`,
    );
  await chmod(dir, 0o700);
}

/** lowdb's JSON file adapter, written owner-only (tmp + rename, one write at a time). */
class OwnerOnlyJsonFile<T> implements Adapter<T> {
  private queue: Promise<void> = Promise.resolve();
  constructor(private readonly file: string) {}

  async read(): Promise<T | null> {
    try {
      return JSON.parse(await readFile(this.file, 'utf8')) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  write(data: T): Promise<void> {
    const text = JSON.stringify(data, null, 2);
    const done = this.queue.then(() => replaceOwnerOnly(this.file, text));
    this.queue = done.catch(() => undefined);
    return done;
  }
}

async function replaceOwnerOnly(file: string, text: string): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.tmp`);
  // A temp file left by a crash may have been created readable by all; 'wx' makes a new one 0600.
  await rm(tmp, { force: true });
  await writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
  await rename(tmp, file);
}
