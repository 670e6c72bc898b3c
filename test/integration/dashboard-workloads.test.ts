import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteFleet } from '../../src/cli/remote-fleet.js';
import { startController, type Controller } from '../../src/controller/controller.js';
import { registryFleetSource } from '../../src/controller/fleet-source.js';
import { silentLogger } from '../../src/core/log.js';
import { workloadStates } from '../../src/core/workload.js';
import { openHeadless, type Headless, KEY } from '../tui/harness.js';
import {
  assertBuilt,
  joinArgsFor,
  runYard,
  startAgentProc,
  tempDir,
  waitFor,
  type YardProcess,
} from '../helpers/procs.js';

const CTRL_R = '\x12';
const CTRL_D = '\x04';
/** Prints a numbered tick every 100 ms until stopped. */
const TICKER = 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.1; done';

/**
 * Workloads from the dashboard and `yard run`, over a real controller and a real agent process:
 * the embedded dashboard's keys and logs pane go through the controller's workload service,
 * an attached one through the Control API, and both reach the agent's real ptys.
 */
describe('workloads from the dashboard and yard run, on a real agent', () => {
  const ctlDir = tempDir();
  let controller: Controller;
  let agent: YardProcess;
  let h: Headless | undefined;
  let remote: RemoteFleet | undefined;
  const state = (name: string) => controller.workloads.list().find((w) => w.spec?.name === name);

  beforeAll(async () => {
    assertBuilt();
    controller = await startController({
      dataDir: ctlDir,
      listen: '127.0.0.1:0',
      heartbeatIntervalMs: 200,
      graceMs: 60_000,
      log: silentLogger,
    });
    agent = startAgentProc(controller.address, tempDir(), [
      '--name',
      'h1',
      '--nvidia-smi',
      '/nonexistent/nvidia-smi',
      ...joinArgsFor(controller.joinToken),
    ]);
    await waitFor(
      'the agent online',
      () => controller.registry.list().find((fs) => fs.server.name === 'h1') ?? undefined,
      20_000,
    );
  }, 60_000);

  afterAll(async () => {
    h?.close();
    remote?.close();
    await agent?.stop();
    await controller?.stop();
  });

  it('yard run reports a workload that exits in its first second, with its exit code and last output, and exits 1', async () => {
    const r = await runYard([
      'run',
      '--on',
      'h1',
      '--name',
      'boom',
      '--data-dir',
      ctlDir,
      '--',
      'sh',
      '-c',
      'echo boom; exit 3',
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).not.toContain('running');
    expect(r.stderr).toContain('boom on h1 exited with code 3 within its first second');
    expect(r.stderr).toMatch(/its last output:\n {2}boom\n/);
    expect(r.stderr).toContain('`yard logs boom` shows all it printed');
  });

  it('yard run still says "running" for a workload that keeps running', async () => {
    const r = await runYard(['run', '--on', 'h1', '--name', 'ticker', '--data-dir', ctlDir, '--', 'sh', '-c', TICKER]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/started ticker on h1\n[\s\S]*state +running/);
  });

  it("the embedded dashboard tails a workload's output as it comes, then stops, restarts and removes it", async () => {
    const source = registryFleetSource(controller, controller.address, 'test-operator');
    h = openHeadless(source, { cols: 120, rows: 30 });
    await h.press('w');
    await h.waitFor(/boom +h1 +○ exited 3/, 10_000);
    await h.press('j');
    expect(h.text()).toMatch(/▶ ticker/);
    await h.press('t');
    const first = Number(/tick (\d+)\s*│\s*\n/.exec(await h.waitFor(/tick \d+/, 10_000))?.[1] ?? 0);
    // It follows: later ticks arrive without a key.
    await h.waitFor(new RegExp(`tick ${first + 5}\\b`), 10_000);
    expect(h.text()).toContain('Logs: ticker on h1 · following');
    await h.press(KEY.escape, 's', 'y');
    await h.waitFor(/ticker: exited/, 15_000);
    expect(workloadStates.name(state('ticker')!.state)).toBe('exited');
    await h.press(CTRL_R);
    await h.waitFor('ticker restarted on h1', 15_000);
    expect(workloadStates.name(state('ticker')!.state)).toBe('running');
    await h.press(CTRL_D);
    expect(h.text()).toContain('Remove ticker from h1?');
    await h.press('y');
    await h.waitFor('ticker removed.', 15_000);
    await waitFor('ticker gone from the controller', () => (state('ticker') ? undefined : true), 10_000);
    const actions = controller.audit
      .list()
      .filter((e) => e.target.startsWith('ticker'))
      .map((e) => [e.who, e.action, e.target]);
    expect(actions).toEqual(
      expect.arrayContaining([
        ['test-operator', 'workload.stop', 'ticker'],
        ['test-operator', 'workload.restart', 'ticker'],
        ['test-operator', 'workload.stop', 'ticker (and remove)'],
      ]),
    );
  }, 60_000);

  it('an attached dashboard follows logs and restarts through the Control API', async () => {
    const r = await runYard(['run', '--on', 'h1', '--name', 'ticker2', '--data-dir', ctlDir, '--', 'sh', '-c', TICKER]);
    expect(r.code, r.stderr).toBe(0);
    remote = new RemoteFleet({ address: controller.socketAddress, from: 'test' });
    await remote.ready(10_000);
    let seen = '';
    let ended: Error | 'clean' | undefined;
    const stop = remote.actions.followLogs('ticker2', {
      data: (c) => (seen += c.toString()),
      end: (e) => (ended = e ?? 'clean'),
    });
    await waitFor('ticks through the Control API', () => (/tick [3-9]/.test(seen) ? true : undefined), 10_000, 50);
    stop();
    const restarted = await remote.actions.restartWorkload('ticker2');
    expect(workloadStates.name(restarted.state)).toBe('running');
    const stopped = await remote.actions.stopWorkload('ticker2');
    expect(workloadStates.name(stopped.state)).toBe('exited');
    await remote.actions.removeWorkload('ticker2');
    await waitFor('ticker2 gone', () => (state('ticker2') ? undefined : true), 10_000);
    expect(ended).toBeUndefined();
  }, 60_000);

  it('the Events view shows an exit with its code and the audit entry of the run, embedded and attached', async () => {
    const embedded = openHeadless(registryFleetSource(controller, controller.address, 'test-operator'), {
      cols: 120,
      rows: 30,
    });
    const watcher = new RemoteFleet({ address: controller.socketAddress, from: 'test' });
    try {
      await watcher.ready(10_000);
      const attached = openHeadless(watcher, { cols: 120, rows: 30 });
      try {
        await embedded.press('e');
        await attached.press(':', ...'events', KEY.enter);
        const r = await runYard([
          'run',
          '--on',
          'h1',
          '--name',
          'boom-again',
          '--data-dir',
          ctlDir,
          '--',
          'sh',
          '-c',
          'exit 3',
        ]);
        expect(r.code, r.stderr).toBe(1);
        for (const h of [embedded, attached]) {
          const text = await h.waitFor(/boom-again +exited 3 on h1/, 10_000);
          expect(text).toMatch(/\d\d:\d\d:\d\d +workload +boom-again +exited 3 on h1 \(new\)/);
          expect(text).toMatch(/audit +boom-again on h1 +\S+: workload\.run/);
        }
      } finally {
        attached.close();
      }
    } finally {
      embedded.close();
      watcher.close();
    }
  }, 60_000);
});
