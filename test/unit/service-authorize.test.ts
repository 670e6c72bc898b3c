import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/controller/audit.js';
import { authorize, type Caller } from '../../src/controller/service/caller.js';
import { listAudit } from '../../src/controller/service/audit.js';
import type { ServiceParts } from '../../src/controller/service/parts.js';
import { ControllerService } from '../../src/controller/service/service.js';
import { stopWorkload } from '../../src/controller/service/workloads.js';
import { Store } from '../../src/controller/store.js';
import { WorkloadCommands, type WorkloadCommandsParts } from '../../src/controller/workload-commands.js';
import { WorkloadTable } from '../../src/controller/workloads.js';

const viewer: Caller = { name: 'vera', via: 'certificate', role: 'viewer' };
const admin: Caller = { name: 'ada', via: 'unix-socket', role: 'admin' };

describe('authorize: the service step between validate and audit', () => {
  it('refuses a caller lacking the role with PERMISSION_DENIED naming the role needed', () => {
    expect(() => authorize(viewer, { name: 'workload.stop', role: 'operator' })).toThrow(
      expect.objectContaining({
        code: 'PERMISSION_DENIED',
        message: expect.stringMatching(/^workload\.stop needs the operator role; vera \(certificate\) has viewer/),
        details: { operation: 'workload.stop', role: 'operator' },
      }),
    );
    expect(() => authorize(admin, { name: 'workload.stop', role: 'operator' })).not.toThrow();
    expect(() => authorize(viewer, { name: 'audit.list', role: 'viewer' })).not.toThrow();
  });

  it('is called for every operation: a refused change never acts, and the audit trail records the refusal', async () => {
    const store = await Store.open({ file: join(mkdtempSync(join(tmpdir(), 'yard-authz-')), 'store.json') });
    const audit = new AuditLog(store, () => undefined);
    // Only the parts these operations reach.
    const workloads = new WorkloadTable();
    const service = new ControllerService({
      audit,
      workloads,
      workloadCommands: new WorkloadCommands({ workloads } as WorkloadCommandsParts),
    } as ServiceParts);
    await expect(service.change(viewer, stopWorkload, { name: 'web', remove: false })).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
      message: expect.stringContaining('needs the operator role'),
    });
    expect(service.read(viewer, listAudit, 0)).toEqual([
      expect.objectContaining({ who: 'vera', action: 'workload.stop', target: 'web', ok: false }),
    ]);
    expect(service.read(viewer, listAudit, 0)[0]?.error).toMatch(/needs the operator role/);
    // The admin gets past authorize to the act, which finds no workload: that is audited.
    await expect(service.change(admin, stopWorkload, { name: 'web', remove: false })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(service.read(viewer, listAudit, 0)[0]).toEqual(
      expect.objectContaining({ who: 'ada', action: 'workload.stop', target: 'web', ok: false }),
    );
  });
});
