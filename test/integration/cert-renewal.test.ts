// Certificates renew themselves: the controller's server certificate once a third of its life is
// left (served to new connections without a restart), and an agent's client certificate through
// RenewCertificate, for the key it already holds. A real controller in this process, a real
// agent identity joining it over TLS; "later" is a clock moved forward, the certificates are real.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentTls } from '../../src/agent/tls.js';
import { startController, type Controller } from '../../src/controller/controller.js';
import { silentLogger } from '../../src/core/log.js';
import { agentFiles } from '../../src/core/paths.js';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { AgentGatewayClient } from '../../src/gen/switchyard/v1/agent_gateway.js';
import { CLIENT_OPTIONS } from '../../src/core/rpc/options.js';
import { tempDir } from '../helpers/procs.js';

const DAY_MS = 24 * 3600_000;

/** The serial of the certificate a TLS server presents now. */
function servedSerial(address: string, caPem: string): Promise<string> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const s = connect({ host, port: Number(port), ca: caPem, ALPNProtocols: ['h2'] }, () => {
      const serial = s.getPeerX509Certificate()?.serialNumber ?? '';
      s.destroy();
      resolve(serial.toLowerCase());
    });
    s.on('error', reject);
  });
}

describe('certificates renew themselves', () => {
  let ctl: Controller;
  const ctlDir = tempDir('yard-renew-ctl-');

  beforeAll(async () => {
    ctl = await startController({
      dataDir: ctlDir,
      listen: '127.0.0.1:0',
      heartbeatIntervalMs: 1000,
      graceMs: 5000,
      log: silentLogger,
    });
  });
  afterAll(async () => ctl?.stop());

  it("the controller's server certificate is renewed with a third of its life left, and served at once", async () => {
    const before = await servedSerial(ctl.address, ctl.caCertPem);
    expect(await ctl.renewServerCertificate(Date.now() + 30 * DAY_MS)).toBe(false);
    expect(await ctl.renewServerCertificate(Date.now() + 70 * DAY_MS)).toBe(true);
    const after = await servedSerial(ctl.address, ctl.caCertPem);
    expect(after).not.toBe(before);
    expect(new X509Certificate(readFileSync(`${ctlDir}/server.crt`)).serialNumber.toLowerCase()).toBe(after);
  });

  it('an agent renews its own certificate for the key it holds, and the renewed one admits it', async () => {
    const dataDir = tempDir('yard-renew-agent-');
    const tls = await AgentTls.open({
      dataDir,
      controller: ctl.address,
      joinToken: ctl.joinToken,
      serverId: 'srv-renew',
      hostname: 'renew-host',
      name: 'renew',
      log: silentLogger,
    });
    const files = agentFiles(dataDir);
    const first = new X509Certificate(readFileSync(files.cert));
    const key = readFileSync(files.key, 'utf8');
    expect(await tls.renewIfDue()).toBe(false);
    expect(await tls.renewIfDue(Date.now() + 25 * DAY_MS)).toBe(true);
    const second = new X509Certificate(readFileSync(files.cert));
    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect(new Date(second.validTo).getTime()).toBeGreaterThanOrEqual(new Date(first.validTo).getTime());
    expect(readFileSync(files.key, 'utf8')).toBe(key);
    expect(second.checkPrivateKey((await import('node:crypto')).createPrivateKey(key))).toBe(true);
    expect(tls.version).toBe(1);
    // The renewed certificate admits the agent: RenewCertificate itself needs a valid agent certificate.
    const client = new AgentGatewayClient(ctl.address, tls.channel(), CLIENT_OPTIONS);
    const err = await new Promise<ServiceError | null>((resolve) =>
      client.renewCertificate({ certificateRequest: 'not a request' }, new Metadata(), (e) => resolve(e)),
    );
    client.close();
    // Authenticated as srv-renew, refused only for the request it sent.
    expect(err?.details).toMatch(/certificate request that is not PKCS#10 PEM/);
    // A fresh start keeps what it has: no join token needed.
    const again = await AgentTls.open({
      dataDir,
      controller: ctl.address,
      serverId: 'srv-renew',
      hostname: 'renew-host',
      name: 'renew',
      log: silentLogger,
    });
    expect(again.notAfterMs).toBe(new Date(second.validTo).getTime());
  });
});
