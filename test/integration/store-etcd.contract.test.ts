import { randomUUID } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ETCD_PREFIX, EtcdStore } from '../../src/controller/store-etcd.js';
import { openEtcdStore } from '../../src/controller/store-mirror.js';
import { silentLogger } from '../../src/core/log.js';
import { MigrationPhase } from '../../src/core/workload.js';
import { EtcdCluster, etcdAvailable } from '../helpers/etcd.js';
import { freePort, waitFor } from '../helpers/procs.js';
import { audit, deployment, migration, route, storeContract, stored } from '../unit/store-contract.js';

describe.skipIf(!etcdAvailable)('etcd store', () => {
  let etcd: EtcdCluster;
  let raw: Etcd3;
  beforeAll(async () => {
    etcd = await EtcdCluster.start(1);
    raw = new Etcd3({ hosts: etcd.endpoints });
  });
  afterAll(async () => {
    raw?.close();
    await etcd?.stop();
  });

  // Each backend is its own prefix on the one etcd: a fresh, empty store per test.
  storeContract('etcd', async () => {
    const prefix = `/test-${randomUUID()}${ETCD_PREFIX}`;
    return {
      open: () => EtcdStore.open({ hosts: etcd.endpoints, prefix }),
      corruptMigration: async (id, value) => {
        await raw.put(`${prefix}migrations/${id}`).value(value);
        return new RegExp(`etcd key ${prefix}migrations/${id} `);
      },
    };
  });

  it("brings one controller's scrape targets to another's store as they change", async () => {
    const prefix = `/test-${randomUUID()}${ETCD_PREFIX}`;
    const open = async () =>
      openEtcdStore(await EtcdStore.open({ hosts: etcd.endpoints, prefix }), etcd.endpoints, silentLogger);
    const [a, b] = [await open(), await open()];
    try {
      const heard: string[] = [];
      b.onRemote((c) => c.kind === 'scrapeTarget' && heard.push(c.name));
      const target = {
        name: 'gpu-07',
        url: 'http://10.0.0.7:9100/metrics',
        gpuUrl: '',
        intervalMs: 0,
        addedMs: 1,
        addedBy: 'ops',
      };
      a.putScrapeTarget(target);
      await a.flush();
      await waitFor('b to hear the target', () => b.scrapeTarget('gpu-07'));
      expect(b.scrapeTargets()).toEqual([target]);
      a.removeScrapeTarget('gpu-07');
      await a.flush();
      await waitFor('b to hear it removed', () => b.scrapeTarget('gpu-07') === undefined || undefined);
      expect(heard).toEqual(['gpu-07', 'gpu-07']);
      const c = await open();
      expect(c.scrapeTargets()).toEqual([]);
      await c.close();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("mirrors deployments between two controllers' stores: written, heard, removed, read again at start", async () => {
    const prefix = `/test-${randomUUID()}${ETCD_PREFIX}`;
    const open = async () =>
      openEtcdStore(await EtcdStore.open({ hosts: etcd.endpoints, prefix }), etcd.endpoints, silentLogger);
    const [a, b] = [await open(), await open()];
    try {
      const heard: string[] = [];
      b.onRemote((c) => c.kind === 'deployment' && heard.push(c.name));
      a.putDeployment(deployment('app', 1));
      a.putDeployment(deployment('gone', 1));
      await a.flush();
      await waitFor('b hears both', () => (b.deployments().length === 2 ? true : undefined), 10_000, 50);
      expect(b.deployment('app')).toEqual(deployment('app', 1));
      b.putDeployment(deployment('app', 2));
      b.removeDeployment('gone');
      await b.flush();
      await waitFor(
        'a hears the change',
        () => (a.deployment('app')?.version === 2 && !a.deployment('gone') ? true : undefined),
        10_000,
        50,
      );
      // What a heard: a's two records (the echo of its own delete may come too, as for routes).
      expect([...new Set(heard)].sort()).toEqual(['app', 'gone']);
      const c = await open();
      try {
        expect(c.deployments()).toEqual([deployment('app', 2)]);
      } finally {
        await c.close();
      }
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps its keys under /switchyard/v1/ by default', async () => {
    const s = await EtcdStore.open({ hosts: etcd.endpoints });
    try {
      await s.putMigration(migration('m-default', 1, MigrationPhase.MIGRATION_PHASE_PLANNED), 0);
      expect(await raw.get('/switchyard/v1/migrations/m-default').json()).toMatchObject({ id: 'm-default' });
      expect(await raw.get('/switchyard/v1/controller-id').json()).toBe(s.controllerId);
    } finally {
      await s.close();
    }
  });

  it('compacts the history up to a revision: older versions are gone, the latest stays, a second compaction is no error', async () => {
    const prefix = `/test-${randomUUID()}${ETCD_PREFIX}`;
    const s = await EtcdStore.open({ hosts: etcd.endpoints, prefix });
    try {
      const m = migration('m-compact', 1, MigrationPhase.MIGRATION_PHASE_PLANNED);
      const first = await s.putMigration(m, 0);
      const second = await s.putMigration({ ...m, updatedMs: 2 }, first);
      await s.compact(second);
      await s.compact(second);
      const old = await raw
        .get(`${prefix}migrations/m-compact`)
        .revision(String(first))
        .string()
        .catch((e: unknown) => e);
      expect(String(old)).toMatch(/compacted/);
      expect((await s.migration('m-compact'))?.value.updatedMs).toBe(2);
    } finally {
      await s.close();
    }
  });

  it("keeps a server's last-seen time apart from its record: a number a pass, read back merged, removed with it", async () => {
    const prefix = `/test-${randomUUID()}${ETCD_PREFIX}`;
    const s = await EtcdStore.open({ hosts: etcd.endpoints, prefix });
    try {
      await s.putServers([stored('s1'), stored('s2')]);
      const recordRevision = (await raw.get(`${prefix}servers/s1`).exec()).kvs[0]!.mod_revision;
      await s.putLastSeen([{ id: 's1', ms: 500 }]);
      expect(await raw.get(`${prefix}last-seen/s1`).string()).toBe('500');
      // The record itself was not written again.
      expect((await raw.get(`${prefix}servers/s1`).exec()).kvs[0]!.mod_revision).toBe(recordRevision);
      const byId = new Map((await s.servers()).map((x) => [x.id, x.lastSeenMs]));
      expect(byId).toEqual(
        new Map([
          ['s1', 500],
          ['s2', 2],
        ]),
      );
      expect((await s.snapshot()).servers.find((x) => x.value.id === 's1')?.value.lastSeenMs).toBe(500);
      await s.removeServer('s1');
      expect(await raw.get(`${prefix}last-seen/s1`).string()).toBeNull();
      expect((await s.servers()).map((x) => x.id)).toEqual(['s2']);
    } finally {
      await s.close();
    }
  });

  it('says which etcd it cannot reach, within its call timeout', async () => {
    const host = `127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const err = await EtcdStore.open({ hosts: [host], callTimeoutMs: 1000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining(`etcd at ${host} failed`) });
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe.skipIf(!etcdAvailable)('etcd store on a three-member cluster', () => {
  let etcd: EtcdCluster;
  beforeAll(async () => {
    etcd = await EtcdCluster.start(3);
  }, 60_000);
  afterAll(async () => {
    await etcd?.stop();
  });

  /** Which member leads now: killing it is the harder case (a new election mid-write). */
  async function leader(): Promise<number> {
    const ids = await Promise.all(
      etcd.endpoints.map(async (host) => {
        const c = new Etcd3({ hosts: [host] });
        try {
          return await c.maintenance.status();
        } finally {
          c.close();
        }
      }),
    );
    return ids.findIndex((s) => s.header.member_id === s.leader);
  }

  it('loses nothing and duplicates nothing when the leader member is killed and brought back', async () => {
    const store = await EtcdStore.open({ hosts: etcd.endpoints });
    const revs = new Map<string, number>();
    let n = 0;
    async function round(count: number, phase: MigrationPhase): Promise<void> {
      for (let i = 0; i < count; i++) await store.putAudit(audit(++n));
      for (let i = 0; i < 10; i++) {
        const id = `m${i}`;
        revs.set(id, await store.putMigration(migration(id, i, phase), revs.get(id) ?? 0));
      }
    }
    try {
      await round(40, MigrationPhase.MIGRATION_PHASE_PLANNED);
      const killed = await leader();
      expect(killed).toBeGreaterThanOrEqual(0);
      await etcd.kill(killed);
      await round(40, MigrationPhase.MIGRATION_PHASE_TRANSFERRING);
      await etcd.restart(killed);
      await round(20, MigrationPhase.MIGRATION_PHASE_COMMITTED);

      // Read through the member that was down: it has caught up with everything written meanwhile.
      const back = await EtcdStore.open({ hosts: [etcd.endpoints[killed]!] });
      try {
        const entries = await back.audit();
        expect(entries.map((e) => e.atMs)).toEqual(Array.from({ length: n }, (_, i) => n - i));
        const ms = await back.migrations();
        expect(ms.map((m) => [m.value.id, m.value.phase, m.revision])).toEqual(
          Array.from({ length: 10 }, (_, i) => [
            `m${9 - i}`,
            MigrationPhase.MIGRATION_PHASE_COMMITTED,
            revs.get(`m${9 - i}`),
          ]),
        );
        expect(back.controllerId).toBe(store.controllerId);
      } finally {
        await back.close();
      }
    } finally {
      await store.close();
    }
  }, 60_000);
});

describe.skipIf(!etcdAvailable)("the controller's store on etcd while etcd is away", () => {
  let etcd: EtcdCluster;
  beforeAll(async () => {
    etcd = await EtcdCluster.start(1);
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  it('fails the flush, keeps what it could not write, and writes it once when etcd is back', {
    timeout: 60_000,
  }, async () => {
    const prefix = `/test-${randomUUID()}${ETCD_PREFIX}`;
    const open = async () =>
      openEtcdStore(
        await EtcdStore.open({ hosts: etcd.endpoints, prefix, callTimeoutMs: 1000 }),
        etcd.endpoints,
        silentLogger,
      );
    const store = await open();
    try {
      store.putRoute(route('web'));
      store.putAudit(audit(1));
      await store.flush();
      await etcd.kill(0);
      store.putRoute({ ...route('web'), revision: 2 });
      store.putAudit(audit(2));
      store.putServer({ ...stored('s1'), state: 0, stateSinceMs: 0 });
      await expect(store.flush()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      await etcd.restart(0);
      // The client tries a member that failed again after a second (its circuit breaker): the
      // controller's next flushes (on a change, or its periodic pass) write what was queued.
      await waitFor('a flush that goes through', () => store.flush().then(() => true), 10_000, 250);
    } finally {
      await store.close();
    }
    const again = await open();
    try {
      expect(again.route('web')?.revision).toBe(2);
      expect(again.audit().map((e) => e.target)).toEqual(['web-2', 'web-1']);
      expect(again.servers().map((s) => s.id)).toEqual(['s1']);
    } finally {
      await again.close();
    }
  });
});
