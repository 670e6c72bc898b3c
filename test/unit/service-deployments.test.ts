import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentLinks } from '../../src/controller/agent-links.js';
import { AuditLog } from '../../src/controller/audit.js';
import { DeploymentReconciler } from '../../src/controller/deployments/reconciler.js';
import { Registry } from '../../src/controller/registry.js';
import type { Router } from '../../src/controller/router/router.js';
import { listAudit } from '../../src/controller/service/audit.js';
import type { Caller } from '../../src/controller/service/caller.js';
import {
  applyDeployment,
  deleteDeployment,
  getDeployment,
  scaleDeployment,
} from '../../src/controller/service/deployments.js';
import type { ServiceParts } from '../../src/controller/service/parts.js';
import { ControllerService } from '../../src/controller/service/service.js';
import { Store } from '../../src/controller/store.js';
import { WorkloadTable } from '../../src/controller/workloads.js';
import { createLogger } from '../../src/core/log.js';
import { parseDeploymentFile } from '../../src/core/schema/deployment.js';

const viewer: Caller = { name: 'vera', via: 'certificate', role: 'viewer' };
const operator: Caller = { name: 'otto', via: 'certificate', role: 'operator' };

async function service() {
  const store = await Store.open({ file: join(mkdtempSync(join(tmpdir(), 'yard-deploy-svc-')), 'store.json') });
  const audit = new AuditLog(store, () => undefined);
  const deployments = new DeploymentReconciler({
    store,
    registry: new Registry({ heartbeatTtlMs: () => 3000, graceMs: 3000 }),
    workloads: new WorkloadTable(),
    links: new AgentLinks(),
    // No deployment here backs a route; the reconciler is not started, so no pass runs.
    router: {} as Router,
    audit,
    log: createLogger('test', () => undefined),
  });
  return { store, service: new ControllerService({ audit, deployments } as unknown as ServiceParts) };
}

const web = parseDeploymentFile('name: web\nreplicas: 2\ntemplate: {command: /bin/sleep, args: ["60"]}\n', 'web.yaml');

describe('deployments through the service', () => {
  it('need the operator role to change, and are audited either way', async () => {
    const { store, service: s } = await service();
    await expect(s.change(viewer, applyDeployment, web)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(store.deployments()).toEqual([]);
    const { outcome, status } = await s.change(operator, applyDeployment, web);
    expect(outcome).toBe('created');
    expect(status).toMatchObject({
      desired: 2,
      running: 0,
      deployment: { name: 'web', version: 1, updatedBy: 'otto' },
    });
    expect((await s.change(operator, applyDeployment, web)).outcome).toBe('unchanged');
    const changed = { ...web, template: { ...web.template!, args: ['30'] } };
    expect((await s.change(operator, applyDeployment, changed)).outcome).toBe('updated: v2 rolls out');
    expect(store.deployment('web')).toMatchObject({ version: 2, previousVersion: 1, previousTemplate: web.template });
    expect((await s.change(operator, scaleDeployment, { name: 'web', replicas: 5 })).desired).toBe(5);
    expect(s.read(viewer, getDeployment, 'web').desired).toBe(5);
    expect(await s.change(operator, deleteDeployment, 'web')).toEqual([]);
    await expect(s.change(operator, scaleDeployment, { name: 'web', replicas: 1 })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'no deployment "web": `yard deploy list` lists them',
    });
    const trail = s.read(viewer, listAudit, 0).reverse();
    // The reconciler's own decisions are there too, with their reasons (no server has joined).
    expect(trail.find((e) => e.who === 'deployments')).toMatchObject({
      action: 'deployment.place',
      target: 'web: no host for another replica: 0 server(s), 0 online, 0 fit',
      ok: false,
    });
    expect(trail.filter((e) => e.who !== 'deployments').map((e) => `${e.who} ${e.action} ${e.target} ${e.ok}`)).toEqual(
      [
        'vera deployment.apply web (2 replicas) false',
        'otto deployment.apply web (2 replicas) true',
        'otto deployment.apply web (2 replicas) true',
        'otto deployment.apply web (2 replicas) true',
        'otto deployment.scale web → 5 true',
        'otto deployment.delete web true',
        'otto deployment.scale web → 1 false',
      ],
    );
  });

  it('refuse a bad spec or name before anything acts', async () => {
    const { service: s } = await service();
    expect(() => s.read(viewer, getDeployment, 'no such/name')).toThrow(/deployment name is not a deployment name/);
    await expect(s.change(operator, applyDeployment, { ...web, replicas: -1 })).rejects.toThrow(
      /deployment web: replicas must not be negative/,
    );
  });
});
