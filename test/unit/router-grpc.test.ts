import { join } from 'node:path';
import { Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlClient } from '../../src/cli/client.js';
import { AuditLog } from '../../src/controller/audit.js';
import { authenticate, localAuth } from '../../src/controller/grpc/auth.js';
import { routeControl } from '../../src/controller/grpc/control-routes.js';
import type { ServiceParts } from '../../src/controller/service/parts.js';
import { ControllerService } from '../../src/controller/service/service.js';
import { errorDetailOf } from '../../src/core/rpc/errors.js';
import type { Route } from '../../src/core/route.js';
import {
  ControlService,
  PromotionState,
  type ApplyRoutesResponse,
  type PromoteRouteResponse,
} from '../../src/gen/switchyard/v1/control.js';
import { tempDir } from '../helpers/procs.js';
import { backend, route, routerFixture, type RouterFixture } from './router-fixture.js';

/** The Control route RPCs on a real gRPC server on 127.0.0.1, with a real Router behind them. */
describe('Control: route RPCs', () => {
  let f: RouterFixture;
  let server: Server;
  let api: ReturnType<typeof controlClient>;
  let audit: AuditLog;

  beforeAll(async () => {
    f = await routerFixture();
    f.connect('edge');
    audit = new AuditLog(f.store, () => undefined);
    // Only the parts the route operations use.
    const service = new ControllerService({
      registry: f.registry,
      workloads: f.workloads,
      router: f.router,
      audit,
    } as ServiceParts);
    server = new Server({ interceptors: [authenticate(localAuth)] });
    server.addService(ControlService, routeControl(service));
    // The Unix socket, as the CLI on the controller's host reaches it (TCP would want TLS and a credential).
    const socket = `unix:${join(tempDir('yard-route-grpc-'), 'control.sock')}`;
    await new Promise<number>((resolve, reject) =>
      server.bindAsync(socket, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    api = controlClient({ address: socket, from: 'test' }, 10_000);
  });
  afterAll(() => {
    api?.close();
    server?.forceShutdown();
    f?.cleanup();
  });

  /** A failed call's gRPC status and structured detail. */
  const failure = (routes: Route[]) =>
    new Promise<{ code: status; detail?: string; message?: string }>((resolve, reject) => {
      api.client.applyRoutes(
        { routes, dryRun: false },
        api.metadata,
        (err: ServiceError | null, res?: ApplyRoutesResponse) => {
          if (!err) return reject(new Error(`expected a failure, got ${JSON.stringify(res)}`));
          const d = errorDetailOf(err);
          resolve({ code: err.code, detail: d?.code, message: d?.message });
        },
      );
    });

  it('applies and lists routes, auditing the caller', async () => {
    const res = await api.call(api.client.applyRoutes, {
      routes: [
        route('web', 'edge', 80, [
          { address: '127.0.0.1:9001', weight: 100, version: 'blue' },
          { address: '127.0.0.1:9002', weight: 0, version: 'green' },
        ]),
      ],
      dryRun: false,
    });
    expect(res.changes.map((c) => c.action)).toEqual(['apply']);
    expect((await api.call(api.client.listRoutes, {})).routes.map((r) => [r.route!.name, r.serverId])).toEqual([
      ['web', 'edge'],
    ]);
    expect(audit.list(1)[0]).toMatchObject({ action: 'route.apply', target: 'web', ok: true });
    expect(audit.list(1)[0]!.who).not.toBe('');
  });

  it('answers a bad route with INVALID_ARGUMENT naming the field, and a taken port with ALREADY_EXISTS', async () => {
    const bad = { ...route('api', 'edge', 81, [{ address: '127.0.0.1:9003', weight: 1 }]) };
    bad.backends = [backend({ address: '127.0.0.1:9003', weight: 500 })];
    expect(await failure([bad])).toEqual({
      code: status.INVALID_ARGUMENT,
      detail: 'INVALID_ARGUMENT',
      message: 'route api: backends[0].weight must be from 0 to 100',
    });
    expect(await failure([route('api', 'edge', 80, [{ address: '127.0.0.1:9003', weight: 1 }])])).toMatchObject({
      code: status.ALREADY_EXISTS,
      detail: 'PORT_IN_USE',
      message: expect.stringMatching(/already used by service web/),
    });
    expect(await failure([])).toMatchObject({ code: status.INVALID_ARGUMENT, message: 'apply: routes holds no route' });
    expect(audit.list(1)[0]).toMatchObject({ action: 'route.apply', ok: false });
  });

  it('sets weights, drains, rolls back and lists the changes', async () => {
    const w = await api.call(api.client.setRouteWeights, { service: 'web', weights: { blue: 50, green: 50 } });
    expect(w.change?.action).toBe('weight');
    const d = await api.call(api.client.drainBackend, { service: 'web', backend: 'green', deadlineMs: 1000 });
    expect(d.route?.route?.backends[1]).toMatchObject({ drain: true, weight: 0 });
    const r = await api.call(api.client.rollbackRoute, { service: 'web' });
    expect(r.route?.route?.backends.map((b) => b.weight)).toEqual([50, 50]);
    const changes = await api.call(api.client.listRouteChanges, { service: 'web', limit: 3 });
    expect(changes.changes.map((c) => c.action)).toEqual(['rollback', 'drain', 'weight']);
    expect(audit.list(3).map((e) => e.action)).toEqual(['route.rollback', 'route.drain', 'route.weight']);
    await expect(api.call(api.client.setRouteWeights, { service: 'web', weights: { blue: 101 } })).rejects.toThrow(
      /weights: weights\.blue must be from 0 to 100/,
    );
  });

  it('streams each promotion step and the final state', async () => {
    const seen = await new Promise<PromoteRouteResponse[]>((resolve, reject) => {
      const out: PromoteRouteResponse[] = [];
      const stream = api.client.promoteRoute(
        { service: 'web', version: 'green', steps: [100], intervalMs: 50 },
        api.metadata,
      );
      stream.on('data', (p: PromoteRouteResponse) => out.push(p));
      stream.on('end', () => resolve(out));
      stream.on('error', reject);
    });
    // No proxy reports here: green is never seen passing its checks, so the gate reverts.
    expect(seen.map((p) => p.state)).toEqual([
      PromotionState.PROMOTION_STATE_STEP,
      PromotionState.PROMOTION_STATE_REVERTED,
    ]);
    expect(seen[1]!.message).toMatch(/was not reported by its proxy/);
    expect(audit.list(1)[0]).toMatchObject({ action: 'route.promote', target: 'web → green', ok: false });
  });

  it('deletes a route', async () => {
    const res = await api.call(api.client.deleteRoute, { service: 'web' });
    expect(res.change).toMatchObject({ action: 'delete', service: 'web' });
    expect((await api.call(api.client.listRoutes, {})).routes).toEqual([]);
    await expect(api.call(api.client.deleteRoute, { service: 'web' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
