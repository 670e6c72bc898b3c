// `yard wall` in a real pty against a real controller that is killed and started again on the
// same port: the pages keep turning, the banner says since when the controller is gone, and
// the fleet comes back on its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  FAKE_NVIDIA_SMI,
  freePort,
  joinArgs,
  startAgentProc,
  startControllerProc,
  tempDir,
  type YardProcess,
} from '../helpers/procs.js';
import { ptyYard, type PtyScreen } from '../helpers/pty.js';

describe('yard wall through a real terminal', () => {
  const dataDir = tempDir('yard-wall-');
  let port: number;
  let controller: YardProcess;
  let agent: YardProcess;
  let wall: PtyScreen;

  beforeAll(async () => {
    assertBuilt();
    port = await freePort();
    controller = startControllerProc(dataDir, port);
    await controller.waitForOutput(/controller listening/);
    agent = startAgentProc(`127.0.0.1:${port}`, tempDir(), [
      '--name',
      'gpu-box',
      '--nvidia-smi',
      FAKE_NVIDIA_SMI,
      ...joinArgs(dataDir),
    ]);
  });

  afterAll(async () => {
    await wall?.stop();
    await Promise.all([agent, controller].map((p) => p?.kill('SIGKILL')));
  });

  it('turns its pages, shows the banner while the controller is down, and recovers on its own', async () => {
    wall = ptyYard(
      [
        'wall',
        '--connect',
        `127.0.0.1:${port}`,
        '--data-dir',
        dataDir,
        '--rotate',
        '300ms',
        '--views',
        'fleet,migrations',
      ],
      { cols: 120, rows: 30 },
    );
    const fleet = await wall.waitFor(/● ONLINE[\s\S]*GPU x8/);
    expect(fleet.split('\n')[0]).toMatch(/^ Switchyard │ Fleet │ 127\.0\.0\.1:\d+ \(attached, wall\) │ 1\/1 online/);
    await wall.waitFor('Migrations (0 live, 0 shown)');
    await wall.waitFor('GPU x8');

    // Read-only, no prompts: keys other than help and quit are refused, and say so.
    wall.write('/');
    await wall.waitFor('wall display: / (filter) is off on this dashboard');

    await controller.kill('SIGKILL');
    const down = await wall.waitFor(/controller unreachable since (\d\d:\d\d:\d\d) \(\d+s ago\) — reconnecting…/);
    const since = /since (\d\d:\d\d:\d\d)/.exec(down)![1];
    // The pages go on turning under the banner, showing what the wall knew.
    await wall.waitFor((t) => t.includes('Migrations (') && t.includes(`since ${since}`));
    const lost = await wall.waitFor((t) => t.includes('GPU x8') && t.includes(`since ${since}`));
    // …but never as current: no host is online on the word of a controller that is gone.
    expect(lost).not.toContain('ONLINE');
    expect(lost).toMatch(/\? UNKNOWN/);
    expect(lost.split('\n')[0]).toContain('1 server, none known online');
    expect(lost).toContain('GPU 8× H100 80GB HBM3');

    controller = startControllerProc(dataDir, port);
    await controller.waitForOutput(/controller listening/);
    const back = await wall.waitFor(
      (t) => !t.includes('unreachable') && /1\/1 online/.test(t) && /● ONLINE/.test(t),
      15_000,
    );
    expect(back.split('\n')[1]).toMatch(/^┌/);

    wall.write('q');
    expect(await wall.exited).toBe(0);
  });
});
