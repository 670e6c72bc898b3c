// The embedded dashboard owns its terminal: what the controller inside it, grpc-js or Node
// would print goes to controller.log, never over the screen, and Ctrl-L repaints the screen
// after something else wrote over it. The built `yard` in a real pty, a real agent process.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controllerFiles } from '../../src/core/paths.js';
import {
  assertBuilt,
  FAKE_NVIDIA_SMI,
  freePort,
  joinArgs,
  startAgentProc,
  tempDir,
  type YardProcess,
} from '../helpers/procs.js';
import { ptyYard, type PtyScreen } from '../helpers/pty.js';

/** A grpc-js trace line as its default logger prints it: "D 2026-… | v1.14.7 4242 | subchannel | …". */
const GRPC_TRACE = /\| v\d+\.\d+\.\d+ \d+ \|/;

describe('the embedded dashboard and its terminal', () => {
  const ctlDir = tempDir();
  let p: PtyScreen;
  let agent: YardProcess;

  beforeAll(async () => {
    assertBuilt();
    const port = await freePort();
    // Every grpc-js trace on: the controller inside logs on each connection, call and heartbeat.
    p = ptyYard(['--data-dir', ctlDir, '--listen', `127.0.0.1:${port}`, '--no-local-agent'], {
      cols: 120,
      rows: 40,
      env: { GRPC_TRACE: 'all', GRPC_VERBOSITY: 'DEBUG' },
    });
    await p.waitFor(/0\/0 online/);
    agent = startAgentProc(`127.0.0.1:${port}`, tempDir(), [
      '--name',
      'gpu-box',
      '--nvidia-smi',
      FAKE_NVIDIA_SMI,
      ...joinArgs(ctlDir),
    ]);
    await p.waitFor((t) => /1\/1 online/.test(t) && /G7 [^\n]* \d+%/.test(t), 20_000);
  });

  afterAll(async () => {
    await p?.stop();
    await agent?.kill('SIGKILL');
  });

  it('sends what the controller, grpc-js and Node print to controller.log, not over the screen', async () => {
    // A few heartbeats later, with all that traced meanwhile.
    await new Promise((r) => setTimeout(r, 1500));
    const text = await p.waitFor(/gpu-box/);
    expect(text).not.toMatch(GRPC_TRACE);
    expect(p.raw).not.toMatch(GRPC_TRACE);
    const log = readFileSync(controllerFiles(ctlDir).log, 'utf8');
    expect(log).toMatch(/ grpc: .*\| v\d+\.\d+\.\d+ \d+ \|/);
    expect(log).toMatch(/controller listening/);
  });

  it('repaints the whole screen on Ctrl-L after something else wrote over it', async () => {
    const before = await p.waitFor(/gpu-box/);
    // Another program writes over the terminal: in the middle of the cards and over blank cells.
    p.term.write('\x1b[12;3HSTRAY OUTPUT FROM SOMEWHERE ELSE\x1b[38;40HXX');
    await p.waitFor(/STRAY OUTPUT/);
    p.write('\x0c');
    const after = await p.waitFor((t) => !t.includes('STRAY OUTPUT') && !/XX\s*$/m.test(t.split('\n')[37] ?? ''));
    const header = (t: string) => t.split('\n')[0]!.replace(/\d\d:\d\d:\d\d/, 'hh:mm:ss');
    expect(header(after)).toBe(header(before));
    expect(after).toMatch(/gpu-box/);
  });
});
