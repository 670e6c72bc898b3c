import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteFleet } from '../../src/cli/remote-fleet.js';
import { startController, type Controller } from '../../src/controller/controller.js';
import { registryFleetSource } from '../../src/controller/fleet-source.js';
import { silentLogger } from '../../src/core/log.js';
import { openHeadless, type Headless } from '../tui/harness.js';
import { assertBuilt, joinArgsFor, runYard, startAgentProc, tempDir, waitFor, type YardProcess } from '../helpers/procs.js';

const lineWith = (text: string, what: string): string => text.split('\n').find((l) => l.includes(what)) ?? '';

/**
 * The Events view over a real controller and a real agent process: a workload that exits 3
 * under `yard run` shows with its code, and the audit entry of the run as it is written, on
 * an embedded dashboard (the controller's service) and on an attached one (WatchFleet).
 */
describe('the Events view, on a real controller and agent', () => {
  const ctlDir = tempDir();
  let controller: Controller;
  let agent: YardProcess;
  let embedded: Headless | undefined;
  let attached: Headless | undefined;
  let remote: RemoteFleet | undefined;

  beforeAll(async () => {
    assertBuilt();
    controller = await startController({ dataDir: ctlDir, listen: '127.0.0.1:0', heartbeatIntervalMs: 200, graceMs: 60_000, log: silentLogger });
    agent = startAgentProc(controller.address, tempDir(), ['--name', 'h1', '--nvidia-smi', '/nonexistent/nvidia-smi', ...joinArgsFor(controller.joinToken)]);
    await waitFor('the agent online', () => controller.registry.list().find((fs) => fs.server.name === 'h1') ?? undefined, 20_000);
  }, 60_000);

  afterAll(async () => {
    embedded?.close();
    attached?.close();
    remote?.close();
    await agent?.stop();
    await controller?.stop();
  });

  it('shows an exit with its code and the audit entry of the run, embedded and attached', async () => {
    embedded = openHeadless(registryFleetSource(controller, controller.address, 'test-operator'), { cols: 120, rows: 30 });
    remote = new RemoteFleet({ address: controller.socketAddress, from: 'test' });
    await remote.ready(10_000);
    attached = openHeadless(remote, { cols: 120, rows: 30 });
    await embedded.press('e');
    await attached.press(':', ...'events', '\r');
    const r = await runYard(['run', '--on', 'h1', '--name', 'boom', '--data-dir', ctlDir, '--', 'sh', '-c', 'echo boom; exit 3']);
    expect(r.code, r.stderr).toBe(1);
    for (const h of [embedded, attached]) {
      const text = await h.waitFor(/boom +.*exited 3 on h1/, 10_000);
      expect(text).toMatch(/\d\d:\d\d:\d\d +workload +boom +.*exited 3 on h1/);
      expect(lineWith(text, 'workload.run')).toMatch(/audit +boom on h1 +\S+: workload\.run/);
    }
  }, 60_000);
});
