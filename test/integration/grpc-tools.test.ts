import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, freePort, startControllerProc, tempDir, type YardProcess } from '../helpers/procs.js';

const run = promisify(execFile);
const BUF = resolve(import.meta.dirname, '../../node_modules/.bin/buf');

/** The README's `buf curl` examples, against a real controller: health and reflection work with standard tools. */
describe('standard gRPC tooling', () => {
  let ctl: YardProcess;
  let base: string;
  let dir: string;

  beforeAll(async () => {
    assertBuilt();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    dir = tempDir();
    ctl = startControllerProc(dir, port);
    await ctl.waitForOutput(/controller listening/);
  });
  afterAll(() => ctl.kill());

  const curl = async (...args: string[]) =>
    (await run(BUF, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...args])).stdout;

  it('lists every service through server reflection', async () => {
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

  it('answers the health check, and Control/Overview with the operator token or on the Unix socket', async () => {
    expect(JSON.parse(await curl(`${base}/grpc.health.v1.Health/Check`))).toEqual({ status: 'SERVING' });
    const token = readFileSync(join(dir, 'operator-token'), 'utf8').trim();
    expect(
      JSON.parse(await curl('-H', `Authorization: Bearer ${token}`, `${base}/switchyard.v1.Control/Overview`)),
    ).toMatchObject({ version: '0.1.0', listen: base.slice(7) });
    expect(
      JSON.parse(
        await curl('--unix-socket', join(dir, 'control.sock'), 'http://localhost/switchyard.v1.Control/Overview'),
      ),
    ).toMatchObject({ version: '0.1.0' });
  });

  it('refuses Control/Overview over TCP without the operator token', async () => {
    const err = await curl(`${base}/switchyard.v1.Control/Overview`).then(
      () => undefined,
      (e: { stderr: string }) => e.stderr,
    );
    expect(err).toMatch(/unauthenticated.*operator token/is);
  });
});
