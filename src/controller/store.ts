import { randomUUID } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { z } from 'zod';
import { YardError, errorMessage } from '../core/errors.js';
import type { Route, RouteChange } from '../core/route.js';
import type { Server } from '../core/types.js';
import { migrationDone, type Migration } from '../core/workload.js';
import type { AuditEntry } from '../gen/switchyard/v1/control.js';

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
  routes?: Record<string, Route>;
  /** Changes to the routing tables, oldest first. */
  routeChanges?: RouteChange[];
}

/** Finished migrations kept as history; older ones are dropped. */
export const MIGRATION_HISTORY = 200;

/** Audit entries kept; older ones are dropped. */
export const AUDIT_HISTORY = 1000;

/** Route changes kept; older ones are dropped. */
export const ROUTE_CHANGE_HISTORY = 500;

const storedServer = z.looseObject({
  id: z.string().min(1),
  name: z.string(),
  hostname: z.string(),
  firstSeenMs: z.number(),
  lastSeenMs: z.number(),
});
const storeSchema = z.object({
  version: z.literal(1),
  controllerId: z.string().min(1),
  servers: z.record(z.string(), storedServer),
  migrations: z.record(z.string(), z.looseObject({ id: z.string().min(1), workload: z.string(), phase: z.number() })).optional(),
  audit: z.array(z.looseObject({ atMs: z.number(), who: z.string(), action: z.string(), target: z.string(), ok: z.boolean() })).optional(),
  routes: z.record(z.string(), z.looseObject({ name: z.string().min(1), listen: z.looseObject({ server: z.string(), port: z.number() }), backends: z.array(z.looseObject({ weight: z.number() })) })).optional(),
  routeChanges: z.array(z.looseObject({ atMs: z.number(), who: z.string(), service: z.string(), action: z.string() })).optional(),
});

export interface OpenStoreOptions {
  file: string;
  /** Start with an empty store when the file is unreadable (a copy is still kept). */
  reset?: boolean;
}

/**
 * The controller's embedded store (lowdb, one JSON file). A corrupt file is never silently
 * replaced: it is copied aside and opening fails with an error naming both files, unless the
 * operator asked for --reset-store.
 */
export class Store {
  private constructor(
    private readonly db: Low<StoreData>,
    readonly file: string,
    /** Where a corrupt file was copied to when --reset-store started clean. */
    readonly resetFrom?: string,
  ) {}

  static async open({ file, reset = false }: OpenStoreOptions): Promise<Store> {
    await mkdir(dirname(file), { recursive: true });
    const fresh: StoreData = { version: 1, controllerId: randomUUID(), servers: {} };
    const db = new Low<StoreData>(new JSONFile<StoreData>(file), fresh);
    let problem: string | undefined;
    try {
      await db.read();
      const parsed = storeSchema.safeParse(db.data);
      if (!parsed.success) problem = `unexpected content (${parsed.error.issues[0]?.path.join('.') || 'root'}: ${parsed.error.issues[0]?.message})`;
    } catch (err) {
      problem = `not valid JSON (${errorMessage(err)})`;
    }
    if (problem === undefined) return new Store(db, file);

    const copy = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await copyFile(file, copy);
    if (!reset) {
      throw new YardError(
        'STORE_CORRUPT',
        `store file ${file} is ${problem}; a copy was kept at ${copy}. Fix the file, or start with --reset-store to begin with an empty store`,
        { file, copy },
      );
    }
    db.data = fresh;
    await db.write();
    return new Store(db, file, copy);
  }

  get controllerId(): string {
    return this.db.data.controllerId;
  }

  servers(): StoredServer[] {
    return Object.values(this.db.data.servers);
  }

  putServer(server: Server): void {
    const { latest: _latest, state: _state, stateSinceMs: _since, ...stored } = server;
    this.db.data.servers[server.id] = stored;
  }

  migrations(): Migration[] {
    return Object.values(this.db.data.migrations ?? {}).sort((a, b) => b.createdMs - a.createdMs);
  }

  putMigration(m: Migration): void {
    const all = (this.db.data.migrations ??= {});
    all[m.id] = m;
    const done = Object.values(all).filter((x) => migrationDone(x.phase)).sort((a, b) => b.createdMs - a.createdMs);
    for (const old of done.slice(MIGRATION_HISTORY)) delete all[old.id];
  }

  /** Newest first; `limit` 0 means every entry kept. */
  audit(limit = 0): AuditEntry[] {
    const all = this.db.data.audit ?? [];
    return all.slice(limit > 0 ? -limit : 0).reverse();
  }

  putAudit(entry: AuditEntry): void {
    const all = (this.db.data.audit ??= []);
    all.push(entry);
    if (all.length > AUDIT_HISTORY) all.splice(0, all.length - AUDIT_HISTORY);
  }

  /** By name. */
  routes(): Route[] {
    return Object.values(this.db.data.routes ?? {}).sort((a, b) => a.name.localeCompare(b.name));
  }

  route(name: string): Route | undefined {
    // Own keys only: "constructor" is a valid service name.
    const all = this.db.data.routes;
    return all && Object.hasOwn(all, name) ? all[name] : undefined;
  }

  putRoute(route: Route): void {
    (this.db.data.routes ??= {})[route.name] = route;
  }

  removeRoute(name: string): void {
    delete this.db.data.routes?.[name];
  }

  /** Newest first. */
  routeChanges(): RouteChange[] {
    return [...(this.db.data.routeChanges ?? [])].reverse();
  }

  addRouteChange(change: RouteChange): void {
    const all = (this.db.data.routeChanges ??= []);
    all.push(change);
    if (all.length > ROUTE_CHANGE_HISTORY) all.splice(0, all.length - ROUTE_CHANGE_HISTORY);
  }

  async flush(): Promise<void> {
    await this.db.write();
  }
}
