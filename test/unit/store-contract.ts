import { describe, expect, it } from 'vitest';
import type { RouteTable } from '../../src/core/domain.js';
import { RoutePolicy, RouteProtocol, type RouteChange } from '../../src/core/route.js';
import { DrainOutcome, DrainPhase } from '../../src/core/drain.js';
import { ServerState, type Server } from '../../src/core/types.js';
import { MigrationPhase, MigrationStrategy, RestartPolicy, type Migration } from '../../src/core/workload.js';
import { AutoscaleMetric, type Deployment } from '../../src/core/deployment.js';
import type { FleetStore } from '../../src/controller/fleet-store.js';
import {
  AUDIT_HISTORY,
  MIGRATION_HISTORY,
  ROUTE_CHANGE_HISTORY,
  type IssuedRecord,
} from '../../src/controller/store.js';

/** One backend as the contract sees it: fresh for each test, shared by every store opened on it. */
export interface ContractBackend {
  /** Another store instance on the same backend, as a second controller would open it. */
  open(): Promise<FleetStore>;
  /**
   * Stores `value` as the raw record of migration `id`, as a hand edit or a bug could leave it;
   * returns what the error reading it must name (the key, or the file and field).
   */
  corruptMigration(id: string, value: string): Promise<RegExp>;
}

/**
 * The behaviour every FleetStore keeps, run against lowdb and against etcd. `fresh` makes an
 * empty backend for one test; the suite closes the stores it opens.
 */
export function storeContract(name: string, fresh: () => Promise<ContractBackend>): void {
  describe(`FleetStore contract: ${name}`, () => {
    const opened: FleetStore[] = [];
    async function two(): Promise<[FleetStore, FleetStore, ContractBackend]> {
      const backend = await fresh();
      const a = await backend.open();
      const b = await backend.open();
      opened.push(a, b);
      return [a, b, backend];
    }
    const closeAll = () => Promise.all(opened.splice(0).map((s) => s.close()));

    it('gives every instance on one backend the same controller id', async () => {
      const [a, b] = await two();
      expect(a.controllerId).toMatch(/\S/);
      expect(b.controllerId).toBe(a.controllerId);
      await closeAll();
    });

    it('round-trips every kind of record, seen from another instance', async () => {
      const [a, b] = await two();
      await a.putServer(server('s/1'));
      await a.putServer(server('s2'));
      await a.removeServer('s2');
      expect(await b.servers()).toEqual([stored('s/1')]);

      await a.putCertificate(cert('01', 'agent', 's1', 5_000), 0);
      await a.putCertificate(cert('0a', 'operator', 'ann', 5_000), 0);
      expect(sorted(await b.certificates(0))).toEqual([
        cert('01', 'agent', 's1', 5_000),
        cert('0a', 'operator', 'ann', 5_000),
      ]);
      expect(await b.certificates(6_000)).toEqual([]);
      expect(await b.revokeCertificates('operator', 'ann', 'root', 100)).toEqual(['0a']);
      expect(await a.revokeCertificates('operator', 'ann', 'root', 200)).toEqual([]);
      expect((await a.certificates(0)).find((c) => c.serial === '0a')).toMatchObject({
        revokedMs: 100,
        revokedBy: 'root',
      });

      const m = migration('m1', 10, MigrationPhase.MIGRATION_PHASE_TRANSFERRING);
      const rev = await a.putMigration(m, 0);
      expect(await b.migration('m1')).toEqual({ value: m, revision: rev });
      expect(await b.migrations()).toEqual([{ value: m, revision: rev }]);
      expect(await b.migration('nope')).toBeUndefined();

      for (const r of [route('web'), route('constructor'), route('a/b')]) await a.putRoute(r, 0);
      expect((await b.routes()).map((r) => r.value)).toEqual([route('a/b'), route('constructor'), route('web')]);
      const web = await b.route('web');
      expect(web?.value).toEqual(route('web'));
      await b.removeRoute('web', web!.revision);
      expect(await a.route('web')).toBeUndefined();

      for (const d of [deployment('web', 1), deployment('a/b', 2)]) await a.putDeployment(d, 0);
      expect((await b.deployments()).map((d) => d.value)).toEqual([deployment('a/b', 2), deployment('web', 1)]);
      const app = await b.deployment('web');
      expect(app?.value).toEqual(deployment('web', 1));
      await b.removeDeployment('web', app!.revision);
      expect(await a.deployment('web')).toBeUndefined();
      expect(await a.deployment('nope')).toBeUndefined();

      await a.putAudit(audit(1));
      await a.putAudit(audit(2));
      expect(await b.audit()).toEqual([audit(2), audit(1)]);
      expect(await b.audit(1)).toEqual([audit(2)]);

      await a.addRouteChange(change(1));
      await a.addRouteChange(change(2));
      expect(await b.routeChanges()).toEqual([change(2), change(1)]);
      await closeAll();
    });

    it("keeps a server's cordon and its drain", async () => {
      const [a, b] = await two();
      const drained: Server = {
        ...server('s3'),
        cordoned: true,
        drain: {
          phase: DrainPhase.DRAIN_PHASE_FAILED,
          requestedBy: 'ann',
          startedMs: 10,
          deadlineMs: 20,
          finishedMs: 21,
          parallel: 2,
          message: '1 of 2 moved',
          workloads: [
            {
              workload: 'job',
              outcome: DrainOutcome.DRAIN_OUTCOME_MOVED,
              how: 'migrate',
              migrationId: 'm1',
              targetServerId: 's4',
              downtimeMs: 180,
              message: '',
              phase: '',
            },
            {
              workload: 'web',
              outcome: DrainOutcome.DRAIN_OUTCOME_LEFT,
              how: '',
              migrationId: '',
              targetServerId: '',
              downtimeMs: 0,
              message: 'the deadline passed',
              phase: '',
            },
          ],
        },
      };
      await a.putServer(drained);
      const { state: _s, stateSinceMs: _t, ...kept } = drained;
      expect(await b.servers()).toEqual([kept]);
    });

    it('keeps scrape targets and the hosts they show, marked scraped, seen from another instance', async () => {
      const [a, b] = await two();
      const target = (name: string, url: string) => ({
        name,
        url,
        gpuUrl: name === 'gpu-07' ? 'http://10.0.0.7:9400/metrics' : '',
        intervalMs: 0,
        addedMs: 5,
        addedBy: 'ops',
      });
      await a.putScrapeTarget(target('gpu-07', 'http://10.0.0.7:9100/metrics'));
      await a.putScrapeTarget(target('edge/1', 'http://10.0.0.8:9100/metrics'));
      await a.putScrapeTarget(target('edge/1', 'http://10.0.0.9:9100/metrics'));
      expect(await b.scrapeTargets()).toEqual([
        target('edge/1', 'http://10.0.0.9:9100/metrics'),
        target('gpu-07', 'http://10.0.0.7:9100/metrics'),
      ]);
      await b.removeScrapeTarget('edge/1');
      expect((await a.scrapeTargets()).map((t) => t.name)).toEqual(['gpu-07']);

      const scraped = { ...server('scraped:gpu-07'), source: 'scraped', scrapeUrl: 'http://10.0.0.7:9100/metrics' };
      await a.putServer(scraped);
      expect(await b.servers()).toEqual([
        { ...stored('scraped:gpu-07'), source: 'scraped', scrapeUrl: 'http://10.0.0.7:9100/metrics' },
      ]);
      await closeAll();
    });

    it('forgets expired certificates when the next is issued, however many expired', async () => {
      const [a, b] = await two();
      // More than one etcd transaction may hold (--max-txn-ops is 128 by default).
      for (let i = 0; i < 150; i++) await a.putCertificate(cert(i.toString(16), 'agent', `s${i}`, 10), 0);
      await a.putCertificate(cert('fff', 'agent', 'fresh', 5_000), 20);
      // Asked as of time 0, a certificate still kept would show: none but the fresh one is.
      expect(await b.certificates(0)).toEqual([cert('fff', 'agent', 'fresh', 5_000)]);
      await closeAll();
    });

    it('refuses a write from an instance that read a stale revision (compare-and-swap, never last write wins)', async () => {
      const [a, b] = await two();
      const m = migration('m1', 10, MigrationPhase.MIGRATION_PHASE_PLANNED);
      const first = await a.putMigration(m, 0);
      await expect(b.putMigration(m, 0)).rejects.toMatchObject({
        code: 'ABORTED',
        message: /migration m1 was changed by another controller/,
      });

      const seen = (await b.migration('m1'))!;
      expect(seen.revision).toBe(first);
      const checkpointing = { ...m, phase: MigrationPhase.MIGRATION_PHASE_CHECKPOINTING };
      const second = await a.putMigration(checkpointing, first);
      expect(second).not.toBe(first);
      const failed = { ...m, phase: MigrationPhase.MIGRATION_PHASE_FAILED, error: 'from b' };
      await expect(b.putMigration(failed, seen.revision)).rejects.toMatchObject({ code: 'ABORTED' });
      expect((await b.migration('m1'))!.value).toEqual(checkpointing);

      const d1 = await a.putDeployment(deployment('app', 1), 0);
      const d2 = await b.putDeployment(deployment('app', 2), d1);
      await expect(a.putDeployment(deployment('app', 3), d1)).rejects.toMatchObject({
        code: 'ABORTED',
        message: /deployment app/,
      });
      await expect(a.removeDeployment('app', d1)).rejects.toMatchObject({ code: 'ABORTED' });
      await b.removeDeployment('app', d2);
      await expect(a.putDeployment(deployment('app', 4), d2)).rejects.toMatchObject({ code: 'ABORTED' });

      const r1 = await a.putRoute(route('web'), 0);
      const r2 = await b.putRoute({ ...route('web'), revision: 2 }, r1);
      await expect(a.putRoute({ ...route('web'), revision: 3 }, r1)).rejects.toMatchObject({
        code: 'ABORTED',
        message: /route web/,
      });
      await expect(a.removeRoute('web', r1)).rejects.toMatchObject({ code: 'ABORTED' });
      await b.removeRoute('web', r2);
      await expect(a.putRoute(route('web'), r2)).rejects.toMatchObject({ code: 'ABORTED', message: /it is gone/ });
      await closeAll();
    });

    it('lets exactly one of several racing writers of the same revision win', async () => {
      const [a, b] = await two();
      const first = await a.putMigration(migration('m1', 10, MigrationPhase.MIGRATION_PHASE_PLANNED), 0);
      const writers = Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? a : b).putMigration(
          { ...migration('m1', 10, MigrationPhase.MIGRATION_PHASE_PREFLIGHT), error: `w${i}` },
          first,
        ),
      );
      const results = await Promise.allSettled(writers);
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'ABORTED' });
      expect((await b.migration('m1'))!.value.error).toBe(`w${won[0]}`);
      await closeAll();
    });

    it('keeps the history caps: finished migrations, audit entries, route changes', async () => {
      const [a, b] = await two();
      const live = migration('live', 0, MigrationPhase.MIGRATION_PHASE_TRANSFERRING);
      await a.putMigration(live, 0);
      const extra = 3;
      for (let i = 1; i <= MIGRATION_HISTORY + extra; i++)
        await a.putMigration(migration(`m${i}`, i, MigrationPhase.MIGRATION_PHASE_COMMITTED), 0);
      const ids = (await b.migrations()).map((m) => m.value.id);
      expect(ids).toHaveLength(MIGRATION_HISTORY + 1);
      expect(ids[0]).toBe(`m${MIGRATION_HISTORY + extra}`);
      expect(ids).toContain('live');
      expect(ids).not.toContain('m1');
      expect(ids).not.toContain(`m${extra}`);
      expect(ids).toContain(`m${extra + 1}`);

      for (let i = 1; i <= AUDIT_HISTORY + extra; i++) await a.putAudit(audit(i));
      const kept = await b.audit();
      expect(kept).toHaveLength(AUDIT_HISTORY);
      expect(kept[0]).toEqual(audit(AUDIT_HISTORY + extra));
      expect(kept.at(-1)).toEqual(audit(extra + 1));

      for (let i = 1; i <= ROUTE_CHANGE_HISTORY + extra; i++) await a.addRouteChange(change(i));
      const changes = await b.routeChanges();
      expect(changes).toHaveLength(ROUTE_CHANGE_HISTORY);
      expect(changes[0]).toEqual(change(ROUTE_CHANGE_HISTORY + extra));
      expect(changes.at(-1)).toEqual(change(extra + 1));
      await closeAll();
    }, 120_000);

    it.each([
      ['a field of the wrong type', JSON.stringify({ ...migration('m1', 1, 1), createdMs: 'yesterday' }), /createdMs/],
      ['a record under another id', JSON.stringify(migration('m2', 1, 1)), /id must equal its key "m1"/],
      ['text that is not JSON', '{"id": "m1",', /is not valid JSON/],
    ])('refuses %s with STORE_CORRUPT naming where it is', async (_what, value, problem) => {
      const [a, , backend] = await two();
      await a.putMigration(migration('m1', 1, MigrationPhase.MIGRATION_PHASE_PLANNED), 0);
      await closeAll();
      const where = await backend.corruptMigration('m1', value);
      const err = await backend
        .open()
        .then(async (s) => {
          opened.push(s);
          return s.migrations();
        })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STORE_CORRUPT' });
      expect((err as Error).message).toMatch(where);
      expect((err as Error).message).toMatch(problem);
      await closeAll();
    });
  });
}

const sorted = (cs: IssuedRecord[]) => [...cs].sort((x, y) => x.serial.localeCompare(y.serial));

function server(id: string): Server {
  return {
    id,
    name: `host-${id}`,
    hostname: `host-${id}`,
    addresses: ['127.0.0.1'],
    mac: '',
    labels: { gpu: 'h100' },
    location: 'rack 4',
    agentVersion: '0.1.0',
    advertiseAddress: '127.0.0.1:7000',
    transferAddress: '',
    cordoned: false,
    state: ServerState.SERVER_STATE_ONLINE,
    firstSeenMs: 1,
    lastSeenMs: 2,
    stateSinceMs: 2,
  };
}

export function stored(id: string) {
  const { state: _s, stateSinceMs: _t, latest: _l, ...rest } = server(id);
  return rest;
}

function cert(serial: string, kind: IssuedRecord['kind'], name: string, notAfterMs: number): IssuedRecord {
  return {
    serial,
    kind,
    name,
    role: kind === 'operator' ? 'admin' : '',
    issuedMs: 1,
    notAfterMs,
    issuedBy: 'root',
    revokedMs: 0,
    revokedBy: '',
  };
}

export function migration(id: string, createdMs: number, phase: MigrationPhase): Migration {
  return {
    id,
    workload: 'train',
    sourceServerId: 's1',
    targetServerId: 's2',
    strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
    phase,
    requestedBy: 'ops',
    createdMs,
    updatedMs: createdMs,
    finishedMs: 0,
    preflight: [{ name: 'target online', ok: true, reason: '' }],
    timings: { transferBytes: 4096, precopyRounds: 0, precopyBytes: 0, bytesSaved: 0 },
    bytesDone: 0,
    bytesTotal: 4096,
    checkpointSha256: '',
    error: '',
    transferPath: '',
    precopy: false,
  };
}

export function route(name: string): RouteTable {
  return {
    name,
    listen: { server: 's1', port: 8080, host: '' },
    protocol: RouteProtocol.ROUTE_PROTOCOL_TCP,
    policy: RoutePolicy.ROUTE_POLICY_WEIGHTED,
    backends: [
      { workload: 'w1', address: '', port: 9000, weight: 100, version: 'blue', drain: false, drainTimeoutMs: 0 },
    ],
    holdTimeoutMs: 5000,
    drainTimeoutMs: 30000,
    revision: 1,
    updatedMs: 3,
    updatedBy: 'ops',
  };
}

export function audit(i: number) {
  return { atMs: i, who: 'ops', action: 'route.apply', target: `web-${i}`, ok: true, error: '' };
}

function change(i: number): RouteChange {
  return { atMs: i, who: 'ops', service: 'web', action: 'apply', after: route('web'), note: `change ${i}` };
}

export function deployment(name: string, version: number): Deployment {
  const spec = {
    name,
    command: '/bin/sleep',
    args: ['60'],
    env: { A: '1' },
    cwd: '',
    labels: {},
    restart: RestartPolicy.RESTART_POLICY_ALWAYS,
    strategy: MigrationStrategy.MIGRATION_STRATEGY_RESTART,
    checkpointSignal: 'SIGUSR1',
    checkpointTimeoutMs: 30_000,
    ports: [9000],
  };
  return {
    name,
    template: spec,
    replicas: 3,
    placement: { labels: { zone: 'a' }, gpus: 0, allowSameHost: false },
    update: { maxUnavailable: 0, maxSurge: 1, healthTimeoutMs: 60_000, autoRevert: true },
    route: { name: 'web', port: 9000 },
    autoscale: { min: 1, max: 5, metric: AutoscaleMetric.AUTOSCALE_METRIC_CPU_PERCENT, target: 60, cooldownMs: 60_000 },
    version,
    ...(version > 1 && { previousTemplate: { ...spec, args: ['30'] } }),
    previousVersion: version - 1,
    updatedMs: 7,
    updatedBy: 'ops',
  };
}
