import { Client, credentials, Metadata, Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/controller/audit.js';
import { authenticate, operatorTokenAuth } from '../../src/controller/grpc/auth.js';
import { routeControl } from '../../src/controller/grpc/control-routes.js';
import type { ServiceParts } from '../../src/controller/service/parts.js';
import { ControllerService } from '../../src/controller/service/service.js';
import { ControlClient, ControlService } from '../../src/gen/switchyard/v1/control.js';
import { routerFixture, type RouterFixture } from './router-fixture.js';

/**
 * The authentication interceptor on a real TCP listener: it resolves every Control call's
 * caller before the handler runs, ends the call when there is none, and lets other services by.
 */
describe('one authentication interceptor per listener', () => {
  let f: RouterFixture;
  let server: Server;
  let client: ControlClient;
  let audit: AuditLog;
  let address: string;

  beforeAll(async () => {
    f = await routerFixture();
    audit = new AuditLog(f.store, () => undefined);
    // Only the parts the route operations use.
    const service = new ControllerService({
      registry: f.registry,
      workloads: f.workloads,
      router: f.router,
      audit,
    } as ServiceParts);
    server = new Server({
      interceptors: [authenticate(operatorTokenAuth({ operator: 'yard_op_right', join: 'yard_join' }))],
    });
    server.addService(ControlService, routeControl(service));
    new HealthImplementation({ '': 'SERVING' }).addToServer(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    address = `127.0.0.1:${port}`;
    client = new ControlClient(address, credentials.createInsecure());
  });
  afterAll(() => {
    client?.close();
    server?.forceShutdown();
    f?.cleanup();
  });

  const metadata = (headers: Record<string, string>) => {
    const md = new Metadata();
    for (const [k, v] of Object.entries(headers)) md.set(k, v);
    return md;
  };
  const deleteRoute = (headers: Record<string, string>) =>
    new Promise<ServiceError>((resolve, reject) =>
      client.deleteRoute({ service: 'nope' }, metadata(headers), (err) =>
        err ? resolve(err) : reject(new Error('expected a failure')),
      ),
    );

  it('ends a call without the operator token at authentication, whatever the client says of itself', async () => {
    const none = await deleteRoute({ 'x-yard-user': 'local' });
    expect(none.code).toBe(status.UNAUTHENTICATED);
    expect(none.details).toMatch(/needs the operator token over TCP/);
    expect((await deleteRoute({ authorization: 'Bearer yard_op_wrong' })).details).toMatch(/wrong operator token/);
    const join = await deleteRoute({ authorization: 'Bearer yard_join' });
    expect(join.code).toBe(status.PERMISSION_DENIED);
    expect(join.details).toMatch(/that is the join token: it admits agents only/);
    // None of them reached the service: nothing in the audit trail.
    expect(audit.list()).toEqual([]);
  });

  it('hands the handler the caller it resolved: the audit trail names the token holder', async () => {
    const err = await deleteRoute({ authorization: 'Bearer yard_op_right', 'x-yard-user': 'alice' });
    expect(err.code).toBe(status.NOT_FOUND);
    expect(audit.list()).toEqual([
      expect.objectContaining({ who: 'alice (token:operator)', action: 'route.delete', target: 'nope', ok: false }),
    ]);
  });

  it('lets calls to other services through: a health check needs no token', async () => {
    const raw = new Client(address, credentials.createInsecure());
    const reply = await new Promise<Buffer>((resolve, reject) =>
      raw.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
        new Metadata(),
        (err, res) => (err ? reject(err) : resolve(res!)),
      ),
    ).finally(() => raw.close());
    // HealthCheckResponse { status: SERVING (1) }
    expect([...reply]).toEqual([0x08, 0x01]);
  });
});
