import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorPems } from '../helpers/pki.js';
import { assertBuilt, freePort, startControllerProc, tempDir, type YardProcess } from '../helpers/procs.js';

const run = promisify(execFile);
const BUF = resolve(import.meta.dirname, '../../node_modules/.bin/buf');

/** The README's `buf curl` examples, against a real controller over TLS: health and reflection work with standard tools. */
describe('standard gRPC tooling', () => {
  let ctl: YardProcess;
  let base: string;
  let dir: string;

  beforeAll(async () => {
    assertBuilt();
    const port = await freePort();
    base = `https://127.0.0.1:${port}`;
    dir = tempDir();
    ctl = startControllerProc(dir, port);
    await ctl.waitForOutput(/controller listening/);
  });
  afterAll(() => ctl.kill());

  /** `buf curl` over TLS, trusting the controller's CA (in its data dir). */
  const curl = async (...args: string[]) =>
    (await run(BUF, ['curl', '--protocol', 'grpc', '--cacert', join(dir, 'ca.crt'), ...args])).stdout;

  it('lists every service through server reflection, over TLS', async () => {
    const methods = (await curl('--list-methods', base)).trim().split('\n');
    expect(methods).toEqual(
      expect.arrayContaining([
        'grpc.health.v1.Health/Check',
        'switchyard.v1.AgentGateway/Connect',
        'switchyard.v1.Control/Overview',
        'switchyard.v1.Control/WatchFleet',
      ]),
    );
  });

  it("answers the health check, and Control/Overview with an operator's certificate or on the Unix socket", async () => {
    expect(JSON.parse(await curl(`${base}/grpc.health.v1.Health/Check`))).toEqual({ status: 'SERVING' });
    const viewer = await operatorPems(dir, 'buf', 'viewer');
    const files = tempDir();
    writeFileSync(join(files, 'buf.crt'), viewer.certPem);
    writeFileSync(join(files, 'buf.key'), viewer.keyPem, { mode: 0o600 });
    expect(
      JSON.parse(
        await curl(
          '--cert',
          join(files, 'buf.crt'),
          '--key',
          join(files, 'buf.key'),
          `${base}/switchyard.v1.Control/Overview`,
        ),
      ),
    ).toMatchObject({ version: '0.1.0', listen: base.slice(8) });
    const local = await run(BUF, [
      'curl',
      '--protocol',
      'grpc',
      '--http2-prior-knowledge',
      '--unix-socket',
      join(dir, 'control.sock'),
      'http://localhost/switchyard.v1.Control/Overview',
    ]);
    expect(JSON.parse(local.stdout)).toMatchObject({ version: '0.1.0' });
  });

  it('refuses Control/Overview over TCP without a credential, and plaintext altogether', async () => {
    const err = await curl(`${base}/switchyard.v1.Control/Overview`).then(
      () => undefined,
      (e: { stderr: string }) => e.stderr,
    );
    expect(err).toMatch(/unauthenticated.*credential/is);
    const plain = await run(BUF, [
      'curl',
      '--protocol',
      'grpc',
      '--http2-prior-knowledge',
      `http://${base.slice(8)}/grpc.health.v1.Health/Check`,
    ]).then(
      () => undefined,
      (e: { stderr: string }) => e.stderr,
    );
    expect(plain).toBeDefined();
  });
});
