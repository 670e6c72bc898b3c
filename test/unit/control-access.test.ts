// The six access RPCs on a real gRPC server (over a Unix socket, as this host's CLI reaches
// the controller), thin adapters over the service: what goes in and out on the wire.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlClient } from '../../src/cli/client.js';
import { AuditLog } from '../../src/controller/audit.js';
import { authenticate, localAuth } from '../../src/controller/grpc/auth.js';
import { accessControl } from '../../src/controller/grpc/control-access.js';
import { Registry } from '../../src/controller/registry.js';
import type { ServiceParts } from '../../src/controller/service/parts.js';
import { ControllerService } from '../../src/controller/service/service.js';
import { Store } from '../../src/controller/store.js';
import { keyRequest } from '../../src/core/pki/key-request.js';
import { newKeyPair } from '../../src/core/pki/x509.js';
import { ControlService } from '../../src/gen/switchyard/v1/control.js';
import { tempDir } from '../helpers/procs.js';
import { newCa } from './pki-fixture.js';

describe('Control: access RPCs', () => {
  let server: Server;
  let api: ReturnType<typeof controlClient>;
  const revoked: string[][] = [];

  beforeAll(async () => {
    const { ca, dataDir } = await newCa(tempDir('yard-access-rpc-'));
    const store = await Store.open({ file: join(dataDir, 'store.json') });
    const service = new ControllerService({
      registry: new Registry({ heartbeatTtlMs: 3000, graceMs: 30_000 }),
      audit: new AuditLog(store, () => undefined),
      access: {
        ca,
        store,
        rotateJoinToken: async () => `yard1.${'n'.repeat(32)}.sha256:${'1'.repeat(64)}`,
        onRevoked: (serials: string[]) => revoked.push(serials),
      },
    } as unknown as ServiceParts);
    server = new Server({ interceptors: [authenticate(localAuth)] });
    server.addService(ControlService, accessControl(service));
    const socket = join(dataDir, 'control.sock');
    await new Promise<number>((resolve, reject) =>
      server.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    api = controlClient({ address: `unix:${socket}`, from: 'test' }, 10_000);
  });
  afterAll(() => {
    api?.close();
    server?.forceShutdown();
  });

  it('tells the caller who it is', async () => {
    expect(await api.call(api.client.whoAmI, {})).toMatchObject({ role: 'admin', via: 'unix-socket' });
  });

  it('grants, lists and revokes a credential', async () => {
    const certificateRequest = await keyRequest(await newKeyPair());
    const granted = await api.call(api.client.grantAccess, {
      name: 'alice',
      role: 'viewer',
      lifetimeMs: 86_400_000,
      certificateRequest,
    });
    expect(granted.certificate).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(granted.caCertificate).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const { grants } = await api.call(api.client.listAccess, {});
    expect(grants).toEqual([
      {
        name: 'alice',
        role: 'viewer',
        serial: granted.serial,
        grantedMs: expect.any(Number),
        notAfterMs: granted.notAfterMs,
        grantedBy: expect.any(String),
        revokedMs: 0,
        revokedBy: '',
      },
    ]);
    expect(await api.call(api.client.revokeAccess, { name: 'alice' })).toEqual({ serials: [granted.serial] });
    expect(revoked).toEqual([[granted.serial]]);
    const after = await api.call(api.client.listAccess, {});
    expect(after.grants[0]?.revokedMs).toBeGreaterThan(0);
  });

  it('refuses a bad grant and an unknown server with the service error', async () => {
    await expect(
      api.call(api.client.grantAccess, { name: 'a b', role: 'viewer', lifetimeMs: 0, certificateRequest: '' }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('operator name "a b"') });
    await expect(api.call(api.client.removeServer, { server: 'ghost' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('no server "ghost"'),
    });
  });

  it('rotates the join token', async () => {
    expect((await api.call(api.client.rotateJoinToken, {})).joinToken).toMatch(/^yard1\./);
  });
});
