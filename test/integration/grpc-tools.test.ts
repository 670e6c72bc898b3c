import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, freePort, startControllerProc, tempDir, type YardProcess } from '../helpers/procs.js';

const run = promisify(execFile);
const BUF = resolve(import.meta.dirname, '../../node_modules/.bin/buf');

/** The README's `buf curl` examples, against a real controller: health and reflection work with standard tools. */
describe('standard gRPC tooling', () => {
  let ctl: YardProcess;
  let base: string;

  beforeAll(async () => {
    assertBuilt();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    ctl = startControllerProc(tempDir(), port);
    await ctl.waitForOutput(/controller listening/);
  });
  afterAll(() => ctl.kill());

  const curl = async (...args: string[]) => (await run(BUF, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...args])).stdout;

  it('lists every service through server reflection', async () => {
    const methods = (await curl('--list-methods', base)).trim().split('\n');
    expect(methods).toEqual(expect.arrayContaining(['grpc.health.v1.Health/Check', 'switchyard.v1.AgentGateway/Connect', 'switchyard.v1.Control/Overview', 'switchyard.v1.Control/WatchFleet']));
  });

  it('answers the health check and Control/Overview', async () => {
    expect(JSON.parse(await curl(`${base}/grpc.health.v1.Health/Check`))).toEqual({ status: 'SERVING' });
    expect(JSON.parse(await curl(`${base}/switchyard.v1.Control/Overview`))).toMatchObject({ version: '0.1.0', listen: base.slice(7) });
  });
});
