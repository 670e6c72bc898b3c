import { randomUUID } from 'node:crypto';
import { YardError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { EtcdChange, EtcdStore } from './store-etcd.js';
import {
  Store,
  noChanges,
  type RemoteChange,
  type StoreBackend,
  type StoreChanges,
  type StoreData,
  type StoredServer,
} from './store.js';

/**
 * The controller's store on etcd, shared by several controllers: the whole fleet state is read
 * once at start and kept in memory (the controller reads it synchronously, as it reads lowdb's),
 * each flush writes the records that changed, and a watch on the prefix brings in what other
 * controllers write.
 *
 * Migrations, routes and deployments are written by compare-and-swap on the revision this controller last saw
 * of them: if another controller changed one first, the write fails with ABORTED and the store
 * takes the other's version (read again), never last write wins. Servers' last-seen times go in
 * transactions of 100; audit entries and route changes under keys picked here, so the watch's echo
 * of this controller's own entries is known and not added twice.
 */
export async function openEtcdStore(etcd: EtcdStore, hosts: string[], log: Logger): Promise<Store> {
  try {
    const snap = await etcd.snapshot();
    const data: StoreData = {
      version: 1,
      controllerId: etcd.controllerId,
      servers: Object.fromEntries(snap.servers.map((r) => [r.value.id, r.value])),
      certificates: snap.certificates.map((r) => r.value),
      migrations: Object.fromEntries(snap.migrations.map((r) => [r.value.id, r.value])),
      routes: Object.fromEntries(snap.routes.map((r) => [r.value.name, r.value])),
      scrapeTargets: Object.fromEntries(snap.scrapeTargets.map((r) => [r.value.name, r.value])),
      audit: snap.audit.map((r) => r.value),
      routeChanges: snap.routeChanges.map((r) => r.value),
      deployments: Object.fromEntries(snap.deployments.map((r) => [r.value.name, r.value])),
    };
    const backend = new EtcdBackend(etcd, hosts, log);
    for (const group of [
      snap.servers,
      snap.certificates,
      snap.migrations,
      snap.routes,
      snap.deployments,
      snap.scrapeTargets,
      snap.audit,
      snap.routeChanges,
    ])
      for (const r of group) backend.seen(r.key, r.revision);
    const store = new Store(data, backend);
    await backend.follow(store, snap.revision + 1);
    return store;
  } catch (err) {
    await etcd.close();
    throw err;
  }
}

const seg = (name: string) => encodeURIComponent(name);

/** A server's record as compared between writes: its last-seen time is kept apart. */
const recordJson = (s: StoredServer) => JSON.stringify({ ...s, lastSeenMs: 0 });

class EtcdBackend implements StoreBackend {
  readonly where: string;
  /** The newest revision this controller knows of each key: written by it, or heard. */
  private readonly revisions = new Map<string, number>();
  /** Keys this controller is writing now: the watch's echo of an older write must not undo them. */
  private readonly writing = new Set<string>();
  /** What was last written or heard of each record: a write of the same again is skipped. */
  private readonly last = new Map<string, string>();
  /** The key of each appended entry (audit, route change), kept while the entry lives. */
  private readonly entryKeys = new WeakMap<object, string>();
  /** Each server's last-seen time as etcd has it (its own small key). */
  private readonly lastSeenWritten = new Map<string, number>();
  private store?: Store;
  private watcher?: { cancel(): Promise<void> };

  constructor(
    readonly etcd: EtcdStore,
    hosts: string[],
    private readonly log: Logger,
  ) {
    this.where = `etcd at ${hosts.join(',')}`;
  }

  seen(key: string, revision: number): void {
    if (revision > (this.revisions.get(key) ?? 0)) this.revisions.set(key, revision);
  }

  async follow(store: Store, fromRevision: number): Promise<void> {
    this.store = store;
    for (const s of store.servers()) {
      this.last.set(`servers/${seg(s.id)}`, recordJson(s));
      this.lastSeenWritten.set(s.id, s.lastSeenMs);
    }
    for (const m of store.migrations()) this.last.set(`migrations/${seg(m.id)}`, JSON.stringify(m));
    for (const r of store.routes()) this.last.set(`routes/${seg(r.name)}`, JSON.stringify(r));
    for (const d of store.deployments()) this.last.set(`deployments/${seg(d.name)}`, JSON.stringify(d));
    this.watcher = await this.etcd.watch(
      fromRevision,
      (e) => this.heard(e),
      (err) => this.log.warn('etcd watch', { error: errorMessage(err) }),
    );
  }

  private heard(e: EtcdChange): void {
    const store = this.store;
    if (!store) return;
    if (this.writing.has(e.key)) return;
    if (e.revision <= (this.revisions.get(e.key) ?? 0)) return;
    let value = e.read();
    this.revisions.set(e.key, e.revision);
    if (e.kind === 'lastSeen') {
      const server = store.server(e.name);
      const ms = value as number | undefined;
      if (ms === undefined || !server || ms <= server.lastSeenMs) return;
      this.lastSeenWritten.set(e.name, ms);
      store.applyRemote({ kind: 'server', id: e.name }, { ...server, lastSeenMs: ms });
      return;
    }
    if (e.kind === 'server' && value) {
      // The record's own last-seen time may be older than the one kept apart.
      const server = value as StoredServer;
      value = { ...server, lastSeenMs: Math.max(server.lastSeenMs, store.server(e.name)?.lastSeenMs ?? 0) };
      this.last.set(e.key, recordJson(server));
    } else if (value) this.last.set(e.key, JSON.stringify(value));
    else this.last.delete(e.key);
    const change: RemoteChange | undefined =
      e.kind === 'server'
        ? { kind: 'server', id: e.name }
        : e.kind === 'certificate'
          ? { kind: 'certificate', serial: e.name }
          : e.kind === 'migration'
            ? { kind: 'migration', id: e.name }
            : e.kind === 'route' || e.kind === 'deployment' || e.kind === 'scrapeTarget'
              ? { kind: e.kind, name: e.name }
              : // Appended entries: those trimmed from the history are trimmed here by the same cap.
                value
                ? { kind: e.kind }
                : undefined;
    if (change) store.applyRemote(change, value);
  }

  async write(data: StoreData, c: StoreChanges): Promise<void> {
    // Each part on its own: one that fails (etcd away, a lost compare-and-swap) does not keep the
    // others from being written. What failed for want of etcd goes back in the queue for the next
    // flush; a lost compare-and-swap does not (the store now holds the other controller's version).
    const retry = noChanges();
    let first: unknown;
    const attempt = async (part: () => Promise<void>, requeue: () => void) => {
      try {
        await part();
      } catch (err) {
        first ??= err;
        if (!(err instanceof YardError && err.code === 'ABORTED')) requeue();
      }
    };
    // Migrations and routes first: they are what a caller waits on before it acts.
    for (const id of c.migrations) {
      const m = data.migrations?.[id];
      if (m && this.changed(`migrations/${seg(id)}`, m))
        await attempt(
          () =>
            this.swap(
              `migrations/${seg(id)}`,
              `migration ${id}`,
              () => this.etcd.putMigration(m, this.rev(`migrations/${seg(id)}`)),
              JSON.stringify(m),
            ),
          () => retry.migrations.add(id),
        );
    }
    for (const name of c.routes) {
      const r = data.routes?.[name];
      if (r && this.changed(`routes/${seg(name)}`, r))
        await attempt(
          () =>
            this.swap(
              `routes/${seg(name)}`,
              `route ${name}`,
              () => this.etcd.putRoute(r, this.rev(`routes/${seg(name)}`)),
              JSON.stringify(r),
            ),
          () => retry.routes.add(name),
        );
    }
    for (const name of c.routesRemoved) {
      const key = `routes/${seg(name)}`;
      if (!this.revisions.has(key)) continue;
      await attempt(
        () =>
          this.swap(key, `route ${name}`, async () => {
            await this.etcd.removeRoute(name, this.rev(key));
            return 0;
          }),
        () => retry.routesRemoved.add(name),
      );
    }
    for (const name of c.deployments) {
      const d = data.deployments?.[name];
      const key = `deployments/${seg(name)}`;
      if (d && this.changed(key, d))
        await attempt(
          () =>
            this.swap(key, `deployment ${name}`, () => this.etcd.putDeployment(d, this.rev(key)), JSON.stringify(d)),
          () => retry.deployments.add(name),
        );
    }
    for (const name of c.deploymentsRemoved) {
      const key = `deployments/${seg(name)}`;
      if (!this.revisions.has(key)) continue;
      await attempt(
        () =>
          this.swap(key, `deployment ${name}`, async () => {
            await this.etcd.removeDeployment(name, this.rev(key));
            return 0;
          }),
        () => retry.deploymentsRemoved.add(name),
      );
    }
    for (const serial of c.certificates) {
      const cert = data.certificates?.find((x) => x.serial === serial);
      if (cert)
        await attempt(
          () => this.plain(`certificates/${seg(serial)}`, () => this.etcd.writeCertificate(cert)),
          () => retry.certificates.add(serial),
        );
    }
    const expired = [...this.revisions.keys()]
      .filter((k) => k.startsWith('certificates/'))
      .map((k) => decodeURIComponent(k.slice('certificates/'.length)))
      .filter((serial) => !data.certificates?.some((x) => x.serial === serial));
    if (expired.length && c.certificates.size)
      await attempt(
        async () => {
          await this.etcd.forgetCertificates(expired);
          for (const serial of expired) this.revisions.delete(`certificates/${seg(serial)}`);
        },
        () => undefined,
      );
    for (const name of c.scrapeTargets) {
      const target = data.scrapeTargets?.[name];
      if (target)
        await attempt(
          () => this.plain(`scrape-targets/${seg(name)}`, () => this.etcd.writeScrapeTarget(target)),
          () => retry.scrapeTargets.add(name),
        );
    }
    for (const name of c.scrapeTargetsRemoved)
      await attempt(
        () => this.plain(`scrape-targets/${seg(name)}`, () => this.etcd.deleteScrapeTarget(name)),
        () => retry.scrapeTargetsRemoved.add(name),
      );
    // Appended entries keep the key they were first given: a retry after an unanswered write
    // cannot append the same entry twice.
    for (const entry of c.audit) {
      const id = this.entryKey(entry);
      await attempt(
        () =>
          this.plain(`audit/${seg(id)}`, async () => {
            await this.etcd.putAudit(entry, id);
            return Number.MAX_SAFE_INTEGER;
          }),
        () => retry.audit.push(entry),
      );
    }
    for (const change of c.routeChanges) {
      const id = this.entryKey(change);
      await attempt(
        () =>
          this.plain(`route-changes/${seg(id)}`, async () => {
            await this.etcd.addRouteChange(change, id);
            return Number.MAX_SAFE_INTEGER;
          }),
        () => retry.routeChanges.push(change),
      );
    }
    // A server's record only when it changed (its last-seen time aside), and its last-seen time
    // apart, a small key of its own: the periodic pass writes numbers, not records.
    const present = [...c.servers].map((id) => data.servers[id]).filter((s) => s !== undefined);
    const changedRecords = present
      .map((s) => ({ s, key: `servers/${seg(s.id)}`, json: recordJson(s) }))
      .filter((r) => this.last.get(r.key) !== r.json);
    const records = changedRecords.map((r) => r.s);
    if (records.length)
      await attempt(
        async () => {
          const keys = changedRecords.map((r) => r.key);
          const json = changedRecords.map((r) => r.json);
          for (const k of keys) this.writing.add(k);
          try {
            const revision = await this.etcd.putServers(records);
            for (const [i, k] of keys.entries()) {
              this.seen(k, revision);
              this.last.set(k, json[i]!);
              this.lastSeenWritten.set(records[i]!.id, records[i]!.lastSeenMs);
            }
          } finally {
            for (const k of keys) this.writing.delete(k);
          }
        },
        () => {
          for (const s of records) retry.servers.add(s.id);
        },
      );
    const seen = present.filter((s) => (this.lastSeenWritten.get(s.id) ?? -1) < s.lastSeenMs);
    if (seen.length)
      await attempt(
        async () => {
          const keys = seen.map((s) => `last-seen/${seg(s.id)}`);
          const ms = seen.map((s) => s.lastSeenMs);
          for (const k of keys) this.writing.add(k);
          try {
            const revision = await this.etcd.putLastSeen(seen.map((s, i) => ({ id: s.id, ms: ms[i]! })));
            for (const [i, k] of keys.entries()) {
              this.seen(k, revision);
              this.lastSeenWritten.set(seen[i]!.id, ms[i]!);
            }
          } finally {
            for (const k of keys) this.writing.delete(k);
          }
        },
        () => {
          for (const s of seen) retry.servers.add(s.id);
        },
      );
    for (const id of c.serversRemoved) {
      this.last.delete(`servers/${seg(id)}`);
      this.lastSeenWritten.delete(id);
      await attempt(
        () => this.plain(`servers/${seg(id)}`, () => this.etcd.deleteServer(id)),
        () => retry.serversRemoved.add(id),
      );
    }
    // Finished migrations beyond the cap were dropped from memory: etcd trims its own (putMigration).
    for (const id of c.migrations) if (!data.migrations?.[id]) this.revisions.delete(`migrations/${seg(id)}`);
    if (first !== undefined) {
      this.store?.requeue(retry);
      throw first;
    }
  }

  /** The key an appended entry is written under, the same on every try. */
  private entryKey(entry: object): string {
    let id = this.entryKeys.get(entry);
    if (!id) {
      id = randomUUID();
      this.entryKeys.set(entry, id);
    }
    return id;
  }

  /** Whether `value` differs from what was last written or heard of `key`. */
  private changed(key: string, value: unknown): boolean {
    return this.last.get(key) !== JSON.stringify(value);
  }

  private rev(key: string): number {
    return this.revisions.get(key) ?? 0;
  }

  /** A write with no revision to compare: the key is marked as this controller's while it goes. */
  private async plain(key: string, write: () => Promise<number>): Promise<void> {
    this.writing.add(key);
    try {
      this.seen(key, await write());
    } finally {
      this.writing.delete(key);
    }
  }

  /**
   * A compare-and-swap write. Lost: the record is read again into the store (the other
   * controller's version, or gone), and the caller gets ABORTED.
   */
  private async swap(key: string, what: string, write: () => Promise<number>, json = ''): Promise<void> {
    this.writing.add(key);
    try {
      const revision = await write();
      if (revision === 0) {
        this.revisions.delete(key);
        this.last.delete(key);
      } else {
        this.revisions.set(key, revision);
        this.last.set(key, json);
      }
    } catch (err) {
      if (err instanceof YardError && err.code === 'ABORTED') await this.reread(key, what);
      throw err;
    } finally {
      this.writing.delete(key);
    }
  }

  private async reread(key: string, what: string): Promise<void> {
    const store = this.store;
    if (!store) return;
    const name = decodeURIComponent(key.slice(key.indexOf('/') + 1));
    const now = key.startsWith('migrations/')
      ? await this.etcd.migration(name)
      : key.startsWith('deployments/')
        ? await this.etcd.deployment(name)
        : await this.etcd.route(name);
    if (now) {
      this.revisions.set(key, now.revision);
      this.last.set(key, JSON.stringify(now.value));
    } else {
      this.revisions.delete(key);
      this.last.delete(key);
    }
    this.log.warn('another controller changed it first: took its version', {
      record: what,
      revision: now?.revision ?? 0,
    });
    if (key.startsWith('migrations/')) store.applyRemote({ kind: 'migration', id: name }, now?.value);
    else if (key.startsWith('deployments/')) store.applyRemote({ kind: 'deployment', name }, now?.value);
    else store.applyRemote({ kind: 'route', name }, now?.value);
  }

  async close(): Promise<void> {
    await this.watcher?.cancel().catch(() => undefined);
    await this.etcd.close();
  }
}
