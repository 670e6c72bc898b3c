import { Client, credentials, Metadata, Server, status, type ServiceError } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/controller/audit.js';
import { authenticate, certificateAuth, OpenCalls } from '../../src/controller/grpc/auth.js';
import { routeControl } from '../../src/controller/grpc/control-routes.js';
import { startControllerTls, type ControllerTls } from '../../src/controller/pki/controller-tls.js';
import type { ServiceParts } from '../../src/controller/service/parts.js';
import { ControllerService } from '../../src/controller/service/service.js';
import { controllerFiles } from '../../src/core/paths.js';
import { silentLogger } from '../../src/core/log.js';
import { ControlClient, ControlService } from '../../src/gen/switchyard/v1/control.js';
import { agentPems, channelOf, operatorPems, type ClientPems } from '../helpers/pki.js';
import { tempDir } from '../helpers/procs.js';
import { routerFixture, type RouterFixture } from './router-fixture.js';

/**
 * The authentication interceptor on a real TLS listener, as the controller builds it: the
 * controller's CA, its server certificate, client certificates checked on every call, a
 * credential's role handed to the service.
 */
describe('one authentication interceptor per listener: certificates over TLS', () => {
  let f: RouterFixture;
  let server: Server;
  let audit: AuditLog;
  let address: string;
  let tls: ControllerTls;
  const ctlDir = tempDir('yard-auth-ctl-');
  const revoked = new Set<string>();
  const clients: Client[] = [];

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
    tls = await startControllerTls({
      files: controllerFiles(ctlDir),
      listenHost: '127.0.0.1',
      advertiseNames: [],
      log: silentLogger,
    });
    const auth = certificateAuth(tls.ca, { isRevoked: (serial) => revoked.has(serial) });
    server = new Server({ interceptors: [authenticate(auth, new OpenCalls())] });
    server.addService(ControlService, routeControl(service));
    new HealthImplementation({ '': 'SERVING' }).addToServer(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', tls.credentials, (err, p) => (err ? reject(err) : resolve(p))),
    );
    address = `127.0.0.1:${port}`;
  });
  afterAll(() => {
    for (const c of clients) c.close();
    server?.forceShutdown();
    tls?.close();
    f?.cleanup();
  });

  const client = (creds = credentials.createInsecure()) => {
    const c = new ControlClient(address, creds);
    clients.push(c);
    return c;
  };
  const deleteRoute = (c: ControlClient, user = '') =>
    new Promise<ServiceError>((resolve, reject) => {
      const md = new Metadata();
      if (user) md.set('x-yard-user', user);
      c.deleteRoute({ service: 'nope' }, md, { deadline: Date.now() + 5000 }, (err) =>
        err ? resolve(err) : reject(new Error('expected a failure')),
      );
    });
  const trusting = (p: Pick<ClientPems, 'caPem'>) => credentials.createSsl(Buffer.from(p.caPem));

  it('refuses plaintext: a client without TLS gets no answer at all', async () => {
    const err = await deleteRoute(client());
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(audit.list()).toEqual([]);
  });

  it('ends a call without a credential at authentication, whatever the client says of itself', async () => {
    const none = await deleteRoute(client(trusting(await operatorPems(ctlDir, 'x', 'admin'))), 'root');
    expect(none.code).toBe(status.UNAUTHENTICATED);
    expect(none.details).toMatch(/wants a credential over TCP: pass --credential FILE or set \$YARD_CREDENTIAL/);
    // None of them reached the service: nothing in the audit trail.
    expect(audit.list()).toEqual([]);
  });

  it("an agent's certificate does not open Control, and a credential from another CA is no credential", async () => {
    const agent = await deleteRoute(client(channelOf(await agentPems(ctlDir, 'srv-1'))));
    expect(agent.code).toBe(status.PERMISSION_DENIED);
    expect(agent.details).toMatch(/agent srv-1's certificate admits it to the agent gateway only/);
    const otherCa = await operatorPems(tempDir('yard-auth-other-'), 'mallory', 'admin');
    // It trusts our CA (to reach us) but presents a certificate another CA issued.
    const foreign = await deleteRoute(
      client(channelOf({ ...otherCa, caPem: (await operatorPems(ctlDir, 'y', 'viewer')).caPem })),
    );
    expect(foreign.code).toBe(status.UNAUTHENTICATED);
    expect(audit.list()).toEqual([]);
  });

  it("hands the service the credential's name and role: a viewer is refused naming the role, an operator is audited by name", async () => {
    const viewer = await deleteRoute(client(channelOf(await operatorPems(ctlDir, 'wall-1', 'viewer'))), 'root');
    expect(viewer.code).toBe(status.PERMISSION_DENIED);
    expect(viewer.details).toMatch(/^route\.delete needs the operator role; wall-1 \(certificate\) has viewer/);
    const err = await deleteRoute(client(channelOf(await operatorPems(ctlDir, 'alice', 'operator'))), 'root');
    expect(err.code).toBe(status.NOT_FOUND);
    // The name is the credential's, not what the client said of itself.
    // Both are in the audit trail by the credential's name: the refusal, and the call that went ahead.
    expect(audit.list()).toEqual([
      expect.objectContaining({ who: 'alice', action: 'route.delete', target: 'nope', ok: false }),
      expect.objectContaining({ who: 'wall-1', action: 'route.delete', target: 'nope', ok: false }),
    ]);
  });

  it('a revoked credential is refused on its next call, naming why', async () => {
    const bob = await operatorPems(ctlDir, 'bob', 'admin');
    const c = client(channelOf(bob));
    expect((await deleteRoute(c)).code).toBe(status.NOT_FOUND);
    const { X509Certificate } = await import('node:crypto');
    revoked.add(new X509Certificate(bob.certPem).serialNumber.toLowerCase());
    const after = await deleteRoute(c);
    expect(after.code).toBe(status.PERMISSION_DENIED);
    expect(after.details).toMatch(/the credential of operator bob \(serial [0-9a-f]{32}\) was revoked/);
  });

  it('lets calls to other services through: a health check needs no credential, only TLS', async () => {
    const raw = new Client(address, trusting({ caPem: tls.ca.certPem }));
    clients.push(raw);
    const reply = await new Promise<Buffer>((resolve, reject) =>
      raw.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
        new Metadata(),
        (err, res) => (err ? reject(err) : resolve(res!)),
      ),
    );
    // HealthCheckResponse { status: SERVING (1) }
    expect([...reply]).toEqual([0x08, 0x01]);
  });
});
