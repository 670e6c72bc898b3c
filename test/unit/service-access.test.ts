// The access operations through the one service door, with a real CA in a temp data dir and a
// real store: who may grant, list, revoke, rotate and remove; what a grant issues; what the
// audit trail keeps (and never keeps: keys and join tokens).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { AgentLinks } from '../../src/controller/agent-links.js';
import { AuditLog } from '../../src/controller/audit.js';
import { CheckpointStore } from '../../src/controller/checkpoints.js';
import { Coordinator } from '../../src/controller/migration/coordinator.js';
import { checkCertificate } from '../../src/controller/pki/certificate-check.js';
import { Registry } from '../../src/controller/registry.js';
import { Router } from '../../src/controller/router/router.js';
import {
  grantAccess,
  listAccess,
  removeServer,
  revokeAccess,
  rotateJoinToken,
  whoAmI,
  type GrantRequest,
} from '../../src/controller/service/access.js';
import { listAudit } from '../../src/controller/service/audit.js';
import { watchFleet, type FleetEvent } from '../../src/controller/service/events.js';
import type { Caller } from '../../src/controller/service/caller.js';
import type { ServiceParts } from '../../src/controller/service/parts.js';
import { listServers } from '../../src/controller/service/servers.js';
import { ControllerService } from '../../src/controller/service/service.js';
import { runWorkload } from '../../src/controller/service/workloads.js';
import { Store } from '../../src/controller/store.js';
import { WorkloadTable } from '../../src/controller/workloads.js';
import { knownWorkload } from '../../src/core/domain.js';
import { silentLogger } from '../../src/core/log.js';
import { keyRequest } from '../../src/core/pki/key-request.js';
import { OPERATOR_LIFETIME_MS } from '../../src/core/pki/lifetimes.js';
import { newKeyPair } from '../../src/core/pki/x509.js';
import { MigrationPhase, WorkloadState } from '../../src/core/workload.js';
import { AgentHello } from '../../src/gen/switchyard/v1/agent_gateway.js';
import { tempDir } from '../helpers/procs.js';
import { sampleMigrations, sampleWorkloads } from '../tui/fixture-workloads.js';
import { newCa } from './pki-fixture.js';

const viewer: Caller = { name: 'vera', via: 'certificate', role: 'viewer' };
const operator: Caller = { name: 'otto', via: 'certificate', role: 'operator' };
const admin: Caller = { name: 'ada', via: 'unix-socket', role: 'admin' };
const DAY_MS = 86_400_000;
const JOIN_TOKEN = `yard1.${'s'.repeat(32)}.sha256:${'0'.repeat(64)}`;

async function world() {
  const { ca, dataDir } = await newCa(tempDir('yard-access-'));
  const store = await Store.open({ file: join(dataDir, 'store.json') });
  const audit = new AuditLog(store, () => undefined);
  const registry = new Registry({ heartbeatTtlMs: 3000, graceMs: 30_000 });
  const workloads = new WorkloadTable();
  const links = new AgentLinks();
  const checkpoints = new CheckpointStore(join(dataDir, 'checkpoints'));
  await checkpoints.init();
  const coordinator = new Coordinator({
    registry,
    workloads,
    links,
    checkpoints,
    store,
    log: silentLogger,
    maxCheckpointBytes: 2 ** 30,
    verifyMs: 1000,
    agentWaitMs: 1000,
    cpuLimitPct: 90,
  });
  const revoked: string[][] = [];
  let rotations = 0;
  const service = new ControllerService({
    registry,
    workloads,
    links,
    coordinator,
    audit,
    router: new Router({ registry, workloads, links, store, log: silentLogger }),
    access: {
      ca,
      store,
      rotateJoinToken: async () => {
        rotations++;
        return JOIN_TOKEN;
      },
      onRevoked: (serials: string[]) => revoked.push(serials),
    },
  } as unknown as ServiceParts);
  return { ca, store, registry, workloads, service, revoked, rotations: () => rotations };
}

type World = Awaited<ReturnType<typeof world>>;

async function request(over: Partial<GrantRequest> = {}): Promise<GrantRequest> {
  return {
    name: 'alice',
    role: 'operator',
    lifetimeMs: 0,
    certificateRequest: await keyRequest(await newKeyPair()),
    ...over,
  };
}

function connect(w: World, id: string, name: string): void {
  w.registry.connect(AgentHello.fromPartial({ serverId: id, hostname: name, name }), Symbol(id));
}

/** Every audit line as one string, to look for what must never be there. */
function auditText(w: World): string {
  return JSON.stringify(w.service.read(admin, listAudit, 0));
}

let w: World;
beforeEach(async () => {
  w = await world();
});

describe('access: who may do what', () => {
  it('refuses grant, list, revoke, rotate and remove to viewers and operators, naming the admin role', async () => {
    connect(w, 'srv-1', 'edge-1');
    for (const caller of [viewer, operator]) {
      const denied = expect.objectContaining({
        code: 'PERMISSION_DENIED',
        message: expect.stringMatching(
          new RegExp(`needs the admin role; ${caller.name} \\(certificate\\) has ${caller.role}`),
        ),
      });
      await expect(w.service.change(caller, grantAccess, await request())).rejects.toEqual(denied);
      expect(() => w.service.read(caller, listAccess, undefined)).toThrow(denied);
      await expect(w.service.change(caller, revokeAccess, 'alice')).rejects.toEqual(denied);
      await expect(w.service.change(caller, rotateJoinToken, undefined)).rejects.toEqual(denied);
      await expect(w.service.change(caller, removeServer, 'edge-1')).rejects.toEqual(denied);
    }
    // Nothing acted: no certificate, no rotation, the server still there; each refusal is audited, by name.
    expect(w.store.certificates()).toEqual([]);
    expect(w.rotations()).toBe(0);
    expect(w.service.read(viewer, listServers, undefined).map((r) => r.server.name)).toEqual(['edge-1']);
    const audited = w.service.read(admin, listAudit, 0);
    expect(audited).toHaveLength(8);
    expect(audited.every((e) => !e.ok && /needs the admin role/.test(e.error))).toBe(true);
  });

  it('lets a viewer ask who it is and list servers, but not run a workload (that needs operator)', async () => {
    connect(w, 'srv-1', 'edge-1');
    expect(w.service.read(viewer, whoAmI, undefined)).toEqual({ name: 'vera', role: 'viewer', via: 'certificate' });
    expect(w.service.read(viewer, listServers, undefined)).toHaveLength(1);
    await expect(
      w.service.change(viewer, runWorkload, {
        server: 'edge-1',
        spec: sampleWorkloads(Date.now())[0]!.workload.spec,
      }),
    ).rejects.toMatchObject({ code: 'PERMISSION_DENIED', message: expect.stringContaining('needs the operator role') });
  });
});

describe('access grant', () => {
  it('issues a certificate that the controller admits as that operator with that role', async () => {
    const before = Date.now();
    const granted = await w.service.change(admin, grantAccess, await request({ lifetimeMs: 30 * DAY_MS }));
    expect(granted.caCertificate).toBe(w.ca.certPem);
    const check = checkCertificate(granted.certificate, w.ca, { isRevoked: () => false });
    expect(check).toMatchObject({
      ok: true,
      serial: granted.serial,
      identity: { kind: 'operator', name: 'alice', role: 'operator' },
    });
    expect(granted.notAfterMs).toBeGreaterThanOrEqual(before + 30 * DAY_MS - 1000);
    expect(granted.notAfterMs).toBeLessThanOrEqual(Date.now() + 30 * DAY_MS);

    const file = join(tempDir('yard-access-cert-'), 'alice.crt');
    writeFileSync(file, granted.certificate);
    const subject = execFileSync('openssl', ['x509', '-in', file, '-noout', '-subject'], { encoding: 'utf8' });
    expect(subject.trim()).toBe('subject=CN = alice, OU = operator');

    expect(w.store.certificates()).toEqual([
      expect.objectContaining({
        serial: granted.serial,
        kind: 'operator',
        name: 'alice',
        role: 'operator',
        issuedBy: 'ada',
        revokedMs: 0,
      }),
    ]);
    expect(w.service.read(admin, listAudit, 0)).toEqual([
      expect.objectContaining({ who: 'ada', action: 'access.grant', target: 'alice (operator)', ok: true }),
    ]);
  });

  it('gives 365 days when no lifetime is asked for', async () => {
    const granted = await w.service.change(admin, grantAccess, await request({ lifetimeMs: 0 }));
    expect(Math.abs(granted.notAfterMs - (Date.now() + OPERATOR_LIFETIME_MS))).toBeLessThan(60_000);
  });

  it.each([
    [{ name: '' }, /operator name "" is not valid: use 1 to 64 letters/],
    [{ name: 'a'.repeat(65) }, /is not valid/],
    [{ name: 'bob smith' }, /operator name "bob smith" is not valid/],
    [{ name: 'x/../y' }, /is not valid/],
    [{ role: 'root' }, /role "root" is not one of viewer, operator, admin/],
    [{ role: '' }, /role "" is not one of/],
    [{ lifetimeMs: -1 }, /lifetime must be more than 0 and at most 5 years/],
    [{ lifetimeMs: 6 * 365 * DAY_MS }, /at most 5 years/],
    [{ lifetimeMs: 1.5 }, /at most 5 years/],
  ])('refuses %j with INVALID_ARGUMENT', async (over, message) => {
    await expect(w.service.change(admin, grantAccess, await request(over))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(message),
    });
    expect(w.store.certificates()).toEqual([]);
  });

  it('refuses a request that is not PKCS#10, and audits the refusal without the request', async () => {
    await expect(
      w.service.change(
        admin,
        grantAccess,
        await request({ certificateRequest: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }),
      ),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('not PKCS#10 PEM') });
    expect(auditText(w)).not.toContain('PRIVATE KEY');
  });
});

describe('access list and revoke', () => {
  it('lists operators newest first (not agents), and revokes every credential of a name at once', async () => {
    const first = await w.service.change(admin, grantAccess, await request({ name: 'alice' }));
    await new Promise((r) => setTimeout(r, 5));
    const second = await w.service.change(admin, grantAccess, await request({ name: 'bob@noc', role: 'viewer' }));
    await new Promise((r) => setTimeout(r, 5));
    const third = await w.service.change(admin, grantAccess, await request({ name: 'alice', role: 'admin' }));
    w.store.putCertificate({
      serial: 'agent-serial',
      kind: 'agent',
      name: 'srv-1',
      role: '',
      issuedMs: Date.now(),
      notAfterMs: Date.now() + DAY_MS,
      issuedBy: 'join',
      revokedMs: 0,
      revokedBy: '',
    });
    expect(w.service.read(admin, listAccess, undefined).map((c) => [c.name, c.role, c.serial])).toEqual([
      ['alice', 'admin', third.serial],
      ['bob@noc', 'viewer', second.serial],
      ['alice', 'operator', first.serial],
    ]);

    const serials = await w.service.change(admin, revokeAccess, 'alice');
    expect(serials.sort()).toEqual([first.serial, third.serial].sort());
    expect(w.revoked).toEqual([serials]);
    expect(w.store.isRevoked(first.serial)).toBe(true);
    expect(w.store.isRevoked(third.serial)).toBe(true);
    expect(w.store.isRevoked(second.serial)).toBe(false);
    expect(w.service.read(admin, listAccess, undefined).find((c) => c.serial === first.serial)).toMatchObject({
      revokedBy: 'ada',
      revokedMs: expect.any(Number),
    });
  });

  it('says NOT_FOUND with a hint for a name without a credential in force', async () => {
    await expect(w.service.change(admin, revokeAccess, 'nobody')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'no credential in force for "nobody": `yard access list` shows who holds one',
    });
    await w.service.change(admin, grantAccess, await request({ name: 'carol' }));
    await w.service.change(admin, revokeAccess, 'carol');
    await expect(w.service.change(admin, revokeAccess, 'carol')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('every credential of "carol" is already revoked'),
    });
    expect(w.revoked).toHaveLength(1);
  });
});

describe('join token rotation', () => {
  it('returns the new token and never writes it to the audit trail', async () => {
    expect(await w.service.change(admin, rotateJoinToken, undefined)).toEqual({ joinToken: JOIN_TOKEN });
    expect(w.rotations()).toBe(1);
    expect(w.service.read(admin, listAudit, 0)).toEqual([
      expect.objectContaining({ who: 'ada', action: 'token.rotate', target: 'join token', ok: true }),
    ]);
  });
});

describe('server remove', () => {
  it('revokes the agent, forgets the server in the registry and the store, and tells the transport', async () => {
    connect(w, 'srv-1', 'edge-1');
    w.store.putServer(w.registry.get('srv-1')!.server);
    w.store.putCertificate({
      serial: 'agent-1',
      kind: 'agent',
      name: 'srv-1',
      role: '',
      issuedMs: Date.now(),
      notAfterMs: Date.now() + DAY_MS,
      issuedBy: 'join',
      revokedMs: 0,
      revokedBy: '',
    });
    const exited = knownWorkload({
      ...sampleWorkloads(Date.now())[0]!.workload,
      serverId: 'srv-1',
      state: WorkloadState.WORKLOAD_STATE_EXITED,
    });
    w.workloads.replace('srv-1', [exited]);
    const told: FleetEvent[] = [];
    w.service.read(admin, watchFleet, (e) => told.push(e));
    expect(await w.service.change(admin, removeServer, 'edge-1')).toEqual({ serverId: 'srv-1', serials: ['agent-1'] });
    expect(told).toContainEqual({ kind: 'serverRemoved', id: 'srv-1' });
    expect(told).toContainEqual({ kind: 'workloadRemoved', name: exited.spec.name, serverId: 'srv-1' });
    expect(w.workloads.list()).toEqual([]);
    expect(w.store.isRevoked('agent-1')).toBe(true);
    expect(w.revoked).toEqual([['agent-1']]);
    expect(w.registry.get('srv-1')).toBeUndefined();
    expect(w.store.servers()).toEqual([]);
    expect(w.service.read(admin, listAudit, 0)).toEqual([
      expect.objectContaining({ who: 'ada', action: 'server.remove', target: 'edge-1', ok: true }),
    ]);
    await expect(w.service.change(admin, removeServer, 'edge-1')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('`yard servers` lists them'),
    });
  });

  it('refuses while workloads run there, naming them and what to do', async () => {
    connect(w, 'srv-a100', 'gpu-a100');
    const running = sampleWorkloads(Date.now())
      .map((s) => s.workload)
      .filter((x) => x.serverId === 'srv-a100');
    w.workloads.replace('srv-a100', running.map(knownWorkload));
    await expect(w.service.change(admin, removeServer, 'gpu-a100')).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: expect.stringMatching(/^server gpu-a100 still runs .*trainer-llama.*`yard stop NAME`/),
    });
    expect(w.registry.get('srv-a100')).toBeDefined();
    expect(w.revoked).toEqual([]);
  });

  it('refuses while a migration to or from it is in flight', async () => {
    connect(w, 'srv-t4', 'gpu-t4');
    const inFlight = { ...sampleMigrations(Date.now())[0]!, phase: MigrationPhase.MIGRATION_PHASE_TRANSFERRING };
    w.store.putMigration(inFlight);
    await expect(w.service.change(admin, removeServer, 'gpu-t4')).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: expect.stringContaining(`is in migration ${inFlight.workload} (${inFlight.id})`),
    });
  });
});

describe('the audit trail', () => {
  it('names the caller of each change and holds no key and no join token', async () => {
    await w.service.change(admin, grantAccess, await request({ name: 'dave' }));
    await w.service.change(admin, revokeAccess, 'dave');
    await w.service.change(admin, rotateJoinToken, undefined);
    await w.service.change(viewer, rotateJoinToken, undefined).catch(() => undefined);
    const entries = w.service.read(admin, listAudit, 0);
    expect(entries.map((e) => [e.who, e.action])).toEqual([
      ['vera', 'token.rotate'],
      ['ada', 'token.rotate'],
      ['ada', 'access.revoke'],
      ['ada', 'access.grant'],
    ]);
    const text = auditText(w);
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain('CERTIFICATE');
    expect(text).not.toContain('yard1.');
  });
});
