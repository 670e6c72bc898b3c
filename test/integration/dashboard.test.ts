import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startController, type Controller } from '../../src/controller/controller.js';
import { registryFleetSource } from '../../src/controller/fleet-source.js';
import { silentLogger } from '../../src/core/log.js';
import { openHeadless, KEY, type Headless } from '../tui/harness.js';
import {
  assertBuilt,
  FAKE_NVIDIA_SMI,
  joinArgsFor,
  startAgentProc,
  tempDir,
  waitFor,
  type YardProcess,
} from '../helpers/procs.js';

/**
 * The embedded dashboard end to end: a controller in this process (as `yard` runs it), real
 * agent processes dialling it over 127.0.0.1, and the dashboard drawn headlessly from the
 * controller's registry.
 */
describe('the dashboard over a real controller and real agents', () => {
  let controller: Controller;
  const agents: YardProcess[] = [];
  let h: Headless;

  beforeAll(async () => {
    assertBuilt();
    controller = await startController({
      dataDir: tempDir(),
      listen: '127.0.0.1:0',
      heartbeatIntervalMs: 200,
      graceMs: 60_000,
      log: silentLogger,
    });
    agents.push(
      startAgentProc(controller.address, tempDir(), [
        '--name',
        'gpu-box',
        '--labels',
        'gpu=h100',
        '--nvidia-smi',
        FAKE_NVIDIA_SMI,
        ...joinArgsFor(controller.joinToken),
      ]),
      startAgentProc(controller.address, tempDir(), [
        '--name',
        'cpu-box',
        '--labels',
        'role=web',
        '--nvidia-smi',
        '/nonexistent/nvidia-smi',
        ...joinArgsFor(controller.joinToken),
      ]),
    );
    h = openHeadless(registryFleetSource(controller, controller.address), { cols: 160, rows: 48 });
    await waitFor('both agents on screen with GPU readings', async () => {
      await h.settle();
      const t = h.text();
      return t.includes('gpu-box') && t.includes('cpu-box') && /G7 .*99%/.test(t) ? true : undefined;
    });
  });

  afterAll(async () => {
    h?.close();
    await Promise.all(agents.map((a) => a.kill('SIGKILL')));
    await controller?.stop();
  });

  it('shows each host as a card with its state, labels and the GPUs its nvidia-smi reports', () => {
    const t = h.text();
    expect(t).toContain(controller.address);
    expect(t).toMatch(/2\/2 online/);
    expect(t).toMatch(/8 GPUs/);
    expect(t).toMatch(/● online/);
    expect(t).toContain('gpu=h100');
    expect(t).toContain('role=web');
    // The recorded 8×H100 box: GPU 0 at 100 %, 78942 of 81559 MiB, temperature and power unknown.
    expect(t).toMatch(/G0 .*100%\s+77\.1\/79\.6 GiB\s+–\s+–/);
  });

  it('opens the server view of the real host on Enter and returns on Esc', async () => {
    const row = h
      .text()
      .split('\n')
      .findIndex((l) => l.includes('cpu-box'));
    expect(row).toBeGreaterThan(0);
    // Select cpu-box (sorted first), open it.
    await h.press('g', KEY.enter);
    // The frame comes from the scheduler, which a busy machine may run a little later.
    const t = await h.waitFor(/Fleet › cpu-box/);
    expect(t).toMatch(/CPU %/);
    expect(t).toMatch(/Disks/);
    await h.press(KEY.escape);
    expect(h.text()).not.toMatch(/Fleet › cpu-box/);
  });

  it('greys a host whose agent died: disconnected, with the age of its last sample', async () => {
    await agents[1]!.kill('SIGKILL');
    await waitFor('cpu-box disconnected on screen', async () => {
      await h.settle();
      return /○ disconnected\s+last seen \d+s ago/.test(h.text()) || undefined;
    });
    expect(h.text()).toMatch(/1\/2 online/);
  });
});
