import { randomUUID } from 'node:crypto';
import { BrokenCircuitError, ConsecutiveBreaker, circuitBreaker, handleWhen } from 'cockatiel';
import {
  ClientRuntimeError,
  Etcd3,
  EtcdError,
  GRPCGenericError,
  type IKeyValue,
  type IOptions,
  type Namespace,
  isRecoverableError,
} from 'etcd3';
import { z } from 'zod';
import type { RouteTable } from '../core/domain.js';
import type { Deployment } from '../core/deployment.js';
import { YardError, errorMessage } from '../core/errors.js';
import type { RouteChange } from '../core/route.js';
import type { Server } from '../core/types.js';
import { describeIssue } from '../core/validate.js';
import { migrationDone, type Migration } from '../core/workload.js';
import type { AuditEntry, ScrapeTarget } from '../gen/switchyard/v1/control.js';
import { staleWrite, type FleetStore, type Versioned } from './fleet-store.js';
import {
  AUDIT_HISTORY,
  MIGRATION_HISTORY,
  ROUTE_CHANGE_HISTORY,
  type IssuedRecord,
  type StoredServer,
} from './store.js';
import {
  auditEntrySchema,
  certificateSchema,
  migrationSchema,
  routeChangeSchema,
  routeSchema,
  deploymentSchema,
  scrapeTargetRecordSchema,
  storedServerSchema,
} from './store-schema.js';

/** Every key of the store lives under this prefix; v1 is the layout below, bumped if it changes. */
export const ETCD_PREFIX = '/switchyard/v1/';

export interface OpenEtcdStoreOptions {
  /** host:port of each member. */
  hosts: string[];
  /** How long one call may take, retries on other members included. */
  callTimeoutMs?: number;
  /** TLS and auth, as etcd3 takes them. */
  credentials?: IOptions['credentials'];
  auth?: IOptions['auth'];
  /** Another prefix: tests share one etcd between stores that must not see each other. */
  prefix?: string;
}

/** How many times revoking retries after another controller changed one of the certificates. */
const REVOKE_TRIES = 5;

/**
 * The fleet store on etcd. One key per record (`servers/<id>`, `migrations/<id>`,
 * `routes/<name>`, `deployments/<name>`, `certificates/<serial>`, `audit/<uuid>`, `route-changes/<uuid>`, and
 * `routes/<name>`, `scrape-targets/<name>`, `certificates/<serial>`, `audit/<uuid>`, `route-changes/<uuid>`, and
 * `controller-id`), each a JSON value checked against the lowdb store's schema when read.
 * Appended entries take a fresh key and are ordered by etcd's create revision, so a retried
 * put (same key) never appends twice.
 */
export class EtcdStore implements FleetStore {
  private constructor(
    private readonly client: Etcd3,
    private readonly ns: Namespace,
    private readonly prefix: string,
    private readonly hosts: string[],
    readonly controllerId: string,
  ) {}

  static async open(opts: OpenEtcdStoreOptions): Promise<EtcdStore> {
    const timeoutMs = opts.callTimeoutMs ?? 5000;
    const prefix = opts.prefix ?? ETCD_PREFIX;
    const client = new Etcd3({
      hosts: opts.hosts,
      credentials: opts.credentials,
      auth: opts.auth,
      // etcd3's default: a member that failed 3 calls in a row is not tried again for 5 s. A
      // second here: a controller whose one member came back writes again at once, and its
      // lease's keep-alives (which go the same way) are not held back past the TTL.
      faultHandling: {
        host: () =>
          circuitBreaker(handleWhen(isRecoverableError), {
            halfOpenAfter: 1000,
            breaker: new ConsecutiveBreaker(3),
          }),
      },
      dialTimeout: timeoutMs,
      defaultCallOptions: () => ({ deadline: Date.now() + timeoutMs }),
    });
    const ns = client.namespace(prefix);
    try {
      // The first controller on an empty etcd names the fleet; the others read its name.
      const res = await guard(opts.hosts, 'naming the fleet', () =>
        ns
          .if(ID_KEY, 'Create', '==', 0)
          .then(ns.put(ID_KEY).value(JSON.stringify(randomUUID())))
          .else(ns.get(ID_KEY))
          .commit(),
      );
      let id: unknown;
      if (res.succeeded) {
        const text = await guard(opts.hosts, 'reading the fleet id', () => ns.get(ID_KEY).string());
        id = parseJson(prefix + ID_KEY, text ?? '');
      } else {
        const kv = res.responses[0]?.response_range?.kvs[0];
        id = parseJson(prefix + ID_KEY, kv?.value.toString() ?? '');
      }
      if (typeof id !== 'string' || id === '')
        throw corrupt(prefix + ID_KEY, 'is not a controller id (expected a non-empty JSON string)');
      return new EtcdStore(client, ns, prefix, opts.hosts, id);
    } catch (err) {
      client.close();
      throw err;
    }
  }

  async servers(): Promise<StoredServer[]> {
    const seen = await this.lastSeen();
    return (await this.list('servers/')).map((kv) => withLastSeen(this.keyed(kv, storedServerSchema, 'id'), seen));
  }

  async putServer(server: Server): Promise<void> {
    const { latest: _latest, state: _state, stateSinceMs: _since, ...stored } = server;
    await this.put(`servers/${segment(server.id)}`, stored);
  }

  async removeServer(id: string): Promise<void> {
    await this.deleteServer(id);
  }

  async certificates(nowMs = Date.now()): Promise<IssuedRecord[]> {
    return (await this.certificateKvs()).map((c) => c.value).filter((c) => c.notAfterMs > nowMs);
  }

  async putCertificate(record: IssuedRecord, nowMs = Date.now()): Promise<void> {
    await this.put(`certificates/${segment(record.serial)}`, record);
    // Expired ones admit no one: forgotten here, as the lowdb store forgets them on each issue.
    const expired = (await this.certificateKvs()).filter((c) => c.value.notAfterMs <= nowMs);
    await this.deleteAll(
      'forgetting expired certificates',
      expired.map((c) => c.key),
    );
  }

  async revokeCertificates(kind: IssuedRecord['kind'], name: string, by: string, nowMs = Date.now()) {
    for (let i = 0; i < REVOKE_TRIES; i++) {
      const hit = (await this.certificateKvs()).filter(
        (c) => c.value.kind === kind && c.value.name === name && c.value.revokedMs === 0 && c.value.notAfterMs > nowMs,
      );
      if (!hit.length) return [];
      // All or none: each certificate must still be as read, or the revocation is read again.
      let txn = this.ns.if(hit[0]!.key, 'Mod', '==', hit[0]!.revision);
      for (const c of hit.slice(1)) txn = txn.and(c.key, 'Mod', '==', c.revision);
      const res = await this.call(`revoking ${kind} ${name}`, () =>
        txn
          .then(
            ...hit.map((c) =>
              this.ns.put(c.key).value(JSON.stringify({ ...c.value, revokedMs: nowMs, revokedBy: by })),
            ),
          )
          .commit(),
      );
      if (res.succeeded) return hit.map((c) => c.value.serial);
    }
    throw new YardError(
      'ABORTED',
      `revoking ${kind} ${name}: its certificates kept changing under other controllers (${REVOKE_TRIES} tries); try again`,
    );
  }

  async migrations(): Promise<Versioned<Migration>[]> {
    return (await this.versioned('migrations/', migrationSchema, 'id')).sort(
      (a, b) => b.value.createdMs - a.value.createdMs,
    );
  }

  async migration(id: string): Promise<Versioned<Migration> | undefined> {
    return this.one(`migrations/${segment(id)}`, migrationSchema, 'id');
  }

  async putMigration(m: Migration, expected: number): Promise<number> {
    const rev = await this.swap(`migrations/${segment(m.id)}`, `migration ${m.id}`, m, expected);
    if (migrationDone(m.phase)) await this.trimMigrations();
    return rev;
  }

  async audit(limit = 0): Promise<AuditEntry[]> {
    return (await this.newest('audit/', limit)).map((kv) => this.parse(kv, auditEntrySchema));
  }

  /** `id` names the entry's key: a controller that picks it knows its own entry when the watch echoes it. */
  async putAudit(entry: AuditEntry, id: string = randomUUID()): Promise<void> {
    await this.append('audit/', id, entry, AUDIT_HISTORY);
  }

  async routes(): Promise<Versioned<RouteTable>[]> {
    return (await this.versioned('routes/', routeSchema, 'name')).sort((a, b) =>
      a.value.name.localeCompare(b.value.name),
    );
  }

  async route(name: string): Promise<Versioned<RouteTable> | undefined> {
    return this.one(`routes/${segment(name)}`, routeSchema, 'name');
  }

  async putRoute(route: RouteTable, expected: number): Promise<number> {
    return this.swap(`routes/${segment(route.name)}`, `route ${route.name}`, route, expected);
  }

  async removeRoute(name: string, expected: number): Promise<void> {
    const key = `routes/${segment(name)}`;
    const res = await this.call(`removing route ${name}`, () =>
      this.ns.if(key, 'Mod', '==', expected).then(this.ns.delete().key(key)).else(this.ns.get(key)).commit(),
    );
    if (!res.succeeded) throw staleWrite(`route ${name}`, expected, modRevision(res));
  }

  async deployments(): Promise<Versioned<Deployment>[]> {
    return (await this.versioned('deployments/', deploymentSchema, 'name')).sort((a, b) =>
      a.value.name.localeCompare(b.value.name),
    );
  }

  async deployment(name: string): Promise<Versioned<Deployment> | undefined> {
    return this.one(`deployments/${segment(name)}`, deploymentSchema, 'name');
  }

  async putDeployment(d: Deployment, expected: number): Promise<number> {
    return this.swap(`deployments/${segment(d.name)}`, `deployment ${d.name}`, d, expected);
  }

  async removeDeployment(name: string, expected: number): Promise<void> {
    const key = `deployments/${segment(name)}`;
    const res = await this.call(`removing deployment ${name}`, () =>
      this.ns.if(key, 'Mod', '==', expected).then(this.ns.delete().key(key)).else(this.ns.get(key)).commit(),
    );
    if (!res.succeeded) throw staleWrite(`deployment ${name}`, expected, modRevision(res));
  }

  async scrapeTargets(): Promise<ScrapeTarget[]> {
    return (await this.versioned('scrape-targets/', scrapeTargetRecordSchema, 'name'))
      .map((v) => v.value)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async putScrapeTarget(target: ScrapeTarget): Promise<void> {
    await this.writeScrapeTarget(target);
  }

  async removeScrapeTarget(name: string): Promise<void> {
    await this.deleteScrapeTarget(name);
  }

  /** Writes a scrape target; returns the revision. */
  async writeScrapeTarget(target: ScrapeTarget): Promise<number> {
    return this.put(`scrape-targets/${segment(target.name)}`, target);
  }

  /** Removes a scrape target; returns the revision of the delete. */
  async deleteScrapeTarget(name: string): Promise<number> {
    const res = await this.call(`removing scrape target ${name}`, () =>
      this.ns
        .delete()
        .key(`scrape-targets/${segment(name)}`)
        .exec(),
    );
    return Number(res.header.revision);
  }

  async routeChanges(): Promise<RouteChange[]> {
    return (await this.newest('route-changes/', 0)).map((kv) => this.parse(kv, routeChangeSchema));
  }

  async addRouteChange(change: RouteChange, id: string = randomUUID()): Promise<void> {
    await this.append('route-changes/', id, change, ROUTE_CHANGE_HISTORY);
  }

  /**
   * Many servers at once (the periodic last-seen write), in transactions of at most TXN_OPS puts;
   * returns the revision of the last one.
   */
  async putServers(servers: StoredServer[]): Promise<number> {
    return this.putMany(
      'writing servers',
      servers.map((x) => [`servers/${segment(x.id)}`, JSON.stringify(x)]),
    );
  }

  /** Writes a certificate as it now is (issued, or revoked here); returns the revision. */
  async writeCertificate(record: IssuedRecord): Promise<number> {
    return this.put(`certificates/${segment(record.serial)}`, record);
  }

  /** Forgets certificates by serial (expired ones). */
  async forgetCertificates(serials: string[]): Promise<void> {
    await this.deleteAll(
      'forgetting expired certificates',
      serials.map((s) => `certificates/${segment(s)}`),
    );
  }

  /** Removes a server; returns the revision of the delete. */
  async deleteServer(id: string): Promise<number> {
    const res = await this.call(`removing server ${id}`, () =>
      this.ns
        .if(`servers/${segment(id)}`, 'Create', '>', -1)
        .then(this.ns.delete().key(`servers/${segment(id)}`), this.ns.delete().key(`last-seen/${segment(id)}`))
        .commit(),
    );
    return Number(res.header.revision);
  }

  /**
   * Servers' last-seen times, each a small key of its own (`last-seen/<id>`: milliseconds), in
   * transactions of TXN_OPS: the periodic last-seen pass writes a number per server, not its whole
   * record (about 2 KB), so etcd's history grows by tens of bytes per server per pass.
   */
  async putLastSeen(entries: { id: string; ms: number }[]): Promise<number> {
    return this.putMany(
      'writing last-seen times',
      entries.map((e) => [`last-seen/${segment(e.id)}`, String(e.ms)]),
    );
  }

  /** Puts in transactions of at most TXN_OPS keys; returns the revision of the last one. */
  private async putMany(what: string, entries: [key: string, value: string][]): Promise<number> {
    let revision = 0;
    for (let i = 0; i < entries.length; i += TXN_OPS) {
      const chunk = entries.slice(i, i + TXN_OPS);
      const res = await this.call(what, () =>
        this.ns
          .if(ID_KEY, 'Create', '>', -1)
          .then(...chunk.map(([key, value]) => this.ns.put(key).value(value)))
          .commit(),
      );
      revision = Number(res.header.revision);
    }
    return revision;
  }

  private async lastSeen(): Promise<Map<string, number>> {
    const kvs = await this.list('last-seen/');
    const seen = new Map<string, number>();
    for (const kv of kvs) {
      const key = kv.key.toString();
      const ms = Number(kv.value.toString());
      if (Number.isSafeInteger(ms) && ms >= 0) seen.set(decodeURIComponent(key.slice(key.indexOf('/') + 1)), ms);
    }
    return seen;
  }

  /**
   * Everything, with the revision it was read at or after: a watch from `revision + 1` misses
   * nothing (it may repeat what was read; a record's mod revision tells).
   */
  async snapshot(): Promise<EtcdSnapshot> {
    const head = await this.call('reading the fleet id', () => this.ns.get(ID_KEY).exec());
    const revision = Number(head.header.revision);
    const kvs = (dir: string) => this.list(dir);
    const [seen, servers, certificates, migrations, routes, scrapeTargets, audit, routeChanges, deployments] =
      await Promise.all([
        this.lastSeen(),
        kvs('servers/'),
        kvs('certificates/'),
        kvs('migrations/'),
        kvs('routes/'),
        kvs('scrape-targets/'),
        this.newest('audit/', 0),
        this.newest('route-changes/', 0),
        kvs('deployments/'),
      ]);
    const rev = (kv: IKeyValue) => ({ key: kv.key.toString(), revision: Number(kv.mod_revision) });
    return {
      revision,
      servers: servers.map((kv) => ({
        ...rev(kv),
        value: withLastSeen(this.keyed(kv, storedServerSchema, 'id'), seen),
      })),
      certificates: certificates.map((kv) => ({ ...rev(kv), value: this.parse(kv, certificateSchema) })),
      migrations: migrations.map((kv) => ({ ...rev(kv), value: this.keyed(kv, migrationSchema, 'id') })),
      routes: routes.map((kv) => ({ ...rev(kv), value: this.keyed(kv, routeSchema, 'name') })),
      scrapeTargets: scrapeTargets.map((kv) => ({
        ...rev(kv),
        value: this.keyed(kv, scrapeTargetRecordSchema, 'name'),
      })),
      audit: audit.map((kv) => ({ ...rev(kv), value: this.parse(kv, auditEntrySchema) })).reverse(),
      routeChanges: routeChanges.map((kv) => ({ ...rev(kv), value: this.parse(kv, routeChangeSchema) })).reverse(),
      deployments: deployments.map((kv) => ({ ...rev(kv), value: this.keyed(kv, deploymentSchema, 'name') })),
    };
  }

  /**
   * Every change under the prefix from `fromRevision` on. `read()` parses the record (a value
   * that fails its schema throws, and is reported to `onBad` and skipped). etcd3's watcher
   * reconnects by itself and resumes where it stopped.
   */
  async watch(
    fromRevision: number,
    on: (e: EtcdChange) => void,
    onBad: (err: Error) => void,
  ): Promise<{ cancel(): Promise<void> }> {
    const watcher = await this.ns.watch().prefix('').startRevision(String(fromRevision)).create();
    const event = (kv: IKeyValue, deleted: boolean) => {
      const key = kv.key.toString();
      const slash = key.indexOf('/');
      const dir = slash < 0 ? key : key.slice(0, slash + 1);
      const kind = WATCHED[dir];
      if (!kind) return;
      const name = decodeURIComponent(key.slice(slash + 1));
      const revision = Number(kv.mod_revision);
      // Parsed only when asked: the echo of this controller's own writes is dropped unread.
      const read = () => {
        if (deleted) return undefined;
        const schema = SCHEMAS[kind];
        if (kind === 'lastSeen') return Number(kv.value.toString());
        return kind === 'audit' || kind === 'routeChange' || kind === 'certificate'
          ? this.parse(kv, schema)
          : this.keyed(
              kv,
              schema as never,
              kind === 'route' || kind === 'deployment' || kind === 'scrapeTarget' ? 'name' : 'id',
            );
      };
      try {
        on({ kind, key, name, revision, deleted, read });
      } catch (err) {
        onBad(err as Error);
      }
    };
    watcher.on('put', (kv) => event(kv, false));
    watcher.on('delete', (kv) => event(kv, true));
    watcher.on('error', (err) => onBad(err));
    return watcher;
  }

  /**
   * A value kept as text (the fleet's CA, its join secret): `text` is stored only if the key is
   * absent; returns what is stored now, this or the one another controller stored first.
   */
  async adoptText(key: string, text: string): Promise<string> {
    const res = await this.call(`writing ${this.prefix}${key}`, () =>
      this.ns.if(key, 'Create', '==', 0).then(this.ns.put(key).value(text)).else(this.ns.get(key)).commit(),
    );
    if (res.succeeded) return text;
    return res.responses[0]?.response_range?.kvs[0]?.value.toString() ?? text;
  }

  async readText(key: string): Promise<string | undefined> {
    return (await this.call(`reading ${this.prefix}${key}`, () => this.ns.get(key).string())) ?? undefined;
  }

  async writeText(key: string, text: string): Promise<void> {
    await this.call(`writing ${this.prefix}${key}`, () => this.ns.put(key).value(text).exec());
  }

  /** etcd's revision now. */
  async revision(): Promise<number> {
    const res = await this.call('reading the revision', () => this.ns.get(ID_KEY).exec());
    return Number(res.header.revision);
  }

  /**
   * Drops every older version of every key up to `revision` (the whole etcd, not only this
   * prefix: etcd compacts one history). Without it etcd keeps every last-seen write for ever
   * and refuses writes once its database reaches its quota (2 GiB by default).
   */
  async compact(revision: number): Promise<void> {
    try {
      await this.call(`compacting to revision ${revision}`, () => this.ns.kv.compact({ revision, physical: false }));
    } catch (err) {
      // Already compacted there (another controller, or etcd's own --auto-compaction): nothing to do.
      if (/required revision has been compacted/.test(errorMessage(err))) return;
      throw err;
    }
  }

  /** The client, for what the controller runs on the same etcd (its election). */
  get namespace(): Namespace {
    return this.ns;
  }

  async close(): Promise<void> {
    this.client.close();
  }

  /** Writes `value` if the key's mod revision is still `expected` (0: absent); returns the new one. */
  private async swap(key: string, what: string, value: unknown, expected: number): Promise<number> {
    const res = await this.call(`writing ${what}`, () =>
      this.ns
        .if(key, 'Mod', '==', expected)
        .then(this.ns.put(key).value(JSON.stringify(value)))
        .else(this.ns.get(key))
        .commit(),
    );
    if (!res.succeeded) throw staleWrite(what, expected, modRevision(res));
    return Number(res.header.revision);
  }

  /** Appends under a fresh key, then drops the oldest beyond `cap`. */
  private async append(dir: string, id: string, value: unknown, cap: number): Promise<void> {
    await this.put(`${dir}${segment(id)}`, value);
    const count = await this.call(`counting ${dir}`, () => this.ns.getAll().prefix(dir).count());
    if (count <= cap) return;
    const oldest = await this.call(`reading ${dir}`, () =>
      this.ns
        .getAll()
        .prefix(dir)
        .sort('Create', 'Ascend')
        .limit(count - cap)
        .keys(),
    );
    await this.deleteAll(`trimming ${dir}`, oldest);
  }

  /** Finished migrations beyond the history cap go, oldest first; a finished one never changes again. */
  private async trimMigrations(): Promise<void> {
    const done = (await this.migrations()).filter((m) => migrationDone(m.value.phase));
    const old = done.slice(MIGRATION_HISTORY);
    if (!old.length) return;
    await this.deleteAll(
      'trimming migration history',
      old.map((m) => `migrations/${segment(m.value.id)}`),
    );
  }

  /**
   * Deletes in transactions of at most TXN_OPS keys (etcd refuses more than --max-txn-ops, 128 by
   * default). Two controllers may delete the same keys at once: a gone key is no error, and the
   * one compare (an absent key's create revision is 0) always holds.
   */
  private async deleteAll(what: string, keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += TXN_OPS) {
      const chunk = keys.slice(i, i + TXN_OPS);
      await this.call(what, () =>
        this.ns
          .if(chunk[0]!, 'Create', '>', -1)
          .then(...chunk.map((k) => this.ns.delete().key(k)))
          .commit(),
      );
    }
  }

  private async put(key: string, value: unknown): Promise<number> {
    const res = await this.call(`writing ${this.prefix}${key}`, () =>
      this.ns.put(key).value(JSON.stringify(value)).exec(),
    );
    return Number(res.header.revision);
  }

  private async list(dir: string): Promise<IKeyValue[]> {
    return (await this.call(`reading ${this.prefix}${dir}`, () => this.ns.getAll().prefix(dir).exec())).kvs;
  }

  /** Newest first by create revision; `limit` 0 means all. */
  private async newest(dir: string, limit: number): Promise<IKeyValue[]> {
    const range = this.ns.getAll().prefix(dir).sort('Create', 'Descend');
    if (limit > 0) range.limit(limit);
    return (await this.call(`reading ${this.prefix}${dir}`, () => range.exec())).kvs;
  }

  private async certificateKvs() {
    return (await this.list('certificates/')).map((kv) => ({
      key: kv.key.toString(),
      value: this.parse(kv, certificateSchema),
      revision: Number(kv.mod_revision),
    }));
  }

  private async versioned<S extends z.ZodType<{ [k: string]: unknown }>>(dir: string, schema: S, field: string) {
    return (await this.list(dir)).map((kv) => ({
      value: this.keyed(kv, schema, field),
      revision: Number(kv.mod_revision),
    }));
  }

  private async one<S extends z.ZodType<{ [k: string]: unknown }>>(key: string, schema: S, field: string) {
    const res = await this.call(`reading ${this.prefix}${key}`, () => this.ns.get(key).exec());
    const kv = res.kvs[0];
    return (
      kv && { value: this.keyed({ ...kv, key: Buffer.from(key) }, schema, field), revision: Number(kv.mod_revision) }
    );
  }

  /** A record whose key names it: the value's `field` must say the same, as the lowdb store checks. */
  private keyed<S extends z.ZodType<{ [k: string]: unknown }>>(kv: IKeyValue, schema: S, field: string): z.output<S> {
    const value = this.parse(kv, schema);
    const key = kv.key.toString();
    const name = decodeURIComponent(key.slice(key.indexOf('/') + 1));
    if (value[field] !== name)
      throw corrupt(this.prefix + key, `has a bad field: ${field} must equal its key "${name}"`);
    return value;
  }

  private parse<S extends z.ZodType>(kv: IKeyValue, schema: S): z.output<S> {
    const key = this.prefix + kv.key.toString();
    const parsed = schema.safeParse(parseJson(key, kv.value.toString()));
    if (parsed.success) return parsed.data;
    const { field, message } = describeIssue(parsed.error);
    throw corrupt(key, field ? `has a bad field: ${field} ${message}` : `is not a record (${message})`);
  }

  private call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return guard(this.hosts, what, fn);
  }
}

const ID_KEY = 'controller-id';

/** A record read with its key and the revision it was last written at. */
export interface Read<T> {
  key: string;
  revision: number;
  value: T;
}

export interface EtcdSnapshot {
  revision: number;
  servers: Read<StoredServer>[];
  certificates: Read<IssuedRecord>[];
  migrations: Read<Migration>[];
  routes: Read<RouteTable>[];
  scrapeTargets: Read<ScrapeTarget>[];
  /** Oldest first, as the lowdb store keeps them. */
  audit: Read<AuditEntry>[];
  routeChanges: Read<RouteChange>[];
  deployments: Read<Deployment>[];
}

export type EtcdChangeKind =
  | 'server'
  | 'lastSeen'
  | 'certificate'
  | 'migration'
  | 'route'
  | 'deployment'
  | 'scrapeTarget'
  | 'audit'
  | 'routeChange';

/** One key changed under the prefix: its record, or no value when it was deleted. */
export interface EtcdChange {
  kind: EtcdChangeKind;
  key: string;
  /** The id, serial or name the key holds. */
  name: string;
  revision: number;
  deleted: boolean;
  /** The record as written (undefined for a delete); throws STORE_CORRUPT for a bad one. */
  read(): unknown;
}

const WATCHED: Record<string, EtcdChangeKind> = {
  'servers/': 'server',
  'last-seen/': 'lastSeen',
  'certificates/': 'certificate',
  'migrations/': 'migration',
  'routes/': 'route',
  'scrape-targets/': 'scrapeTarget',
  'audit/': 'audit',
  'route-changes/': 'routeChange',
  'deployments/': 'deployment',
};

const SCHEMAS: Record<EtcdChangeKind, z.ZodType> = {
  server: storedServerSchema,
  lastSeen: z.coerce.number().int().nonnegative(),
  certificate: certificateSchema,
  migration: migrationSchema,
  route: routeSchema,
  scrapeTarget: scrapeTargetRecordSchema,
  audit: auditEntrySchema,
  routeChange: routeChangeSchema,
  deployment: deploymentSchema,
};

/** Operations per transaction, under etcd's default --max-txn-ops of 128. */
const TXN_OPS = 100;

/** A server's record with its last-seen time from its own key, when that is newer. */
function withLastSeen(server: StoredServer, seen: Map<string, number>): StoredServer {
  const ms = seen.get(server.id);
  return ms !== undefined && ms > server.lastSeenMs ? { ...server, lastSeenMs: ms } : server;
}

/** Ids and names may hold a slash: one key segment each, whatever they hold. */
const segment = (name: string) => encodeURIComponent(name);

function modRevision(res: { responses: { response_range?: { kvs: IKeyValue[] } | null }[] }): number {
  return Number(res.responses[0]?.response_range?.kvs[0]?.mod_revision ?? 0);
}

function parseJson(key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw corrupt(key, `is not valid JSON (${errorMessage(err)})`);
  }
}

function corrupt(key: string, problem: string): YardError {
  return new YardError(
    'STORE_CORRUPT',
    `etcd key ${key} ${problem}; fix the value, or delete the key (etcdctl del ${key}) to forget that record`,
    { key },
  );
}

/** etcd's and the client's failures, said as what could not be done where; anything else is ours and passes. */
async function guard<T>(hosts: string[], what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (
      err instanceof GRPCGenericError ||
      err instanceof ClientRuntimeError ||
      err instanceof EtcdError ||
      err instanceof BrokenCircuitError
    )
      throw new YardError(
        'UNAVAILABLE',
        `etcd at ${hosts.join(',')} failed ${what}: ${errorMessage(err).replace(/\.?\s*Resolution note:\s*$/, '')}; check that etcd runs there and that --store names its members`,
        { hosts: hosts.join(',') },
      );
    throw err;
  }
}
