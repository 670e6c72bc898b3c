// What a controller and `yard servers` say of a host's GPUs, through real agents: the models of a
// host on the recorded 8×H100 nvidia-smi (a FAKE, test/fixtures/bin/nvidia-smi), and a host whose
// nvidia-smi cannot reach its driver (the FAKE nvidia-smi-no-driver) — degraded, with what failed
// and since when, never "0 GPUs". A killed agent's last numbers are not printed as current.
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  freePort,
  joinArgs,
  runYard,
  startAgentProc,
  startControllerProc,
  tempDir,
  waitFor,
  type YardProcess,
} from '../helpers/procs.js';

const FAKE_BIN = resolve(import.meta.dirname, '../fixtures/bin');

interface Listed {
  name: string;
  state: string;
  fresh: boolean;
  gpus: unknown[];
  gpuStatus: { state: string; since: string; message: string } | null;
}

describe('GPU tooling on the fleet', () => {
  const procs: YardProcess[] = [];
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
  });

  it('names the GPU models, counts a host whose nvidia-smi fails as degraded, and prints no stale numbers', async () => {
    assertBuilt();
    const ctlDir = tempDir('yard-ctl-');
    const port = await freePort();
    const controller = startControllerProc(ctlDir, port);
    procs.push(controller);
    await controller.waitForOutput(/controller listening/);
    const agent = (name: string, smi: string) => {
      const p = startAgentProc(`127.0.0.1:${port}`, tempDir(`yard-${name}-`), [
        '--name',
        name,
        '--nvidia-smi',
        `${FAKE_BIN}/${smi}`,
        ...joinArgs(ctlDir),
      ]);
      procs.push(p);
      return p;
    };
    const h100 = agent('h100', 'nvidia-smi');
    agent('broken', 'nvidia-smi-no-driver');
    const list = async () =>
      JSON.parse((await runYard(['servers', '--json', '--data-dir', ctlDir])).stdout) as Listed[];
    const byName = (all: Listed[], name: string) => all.find((s) => s.name === name);

    const listed = await waitFor('both hosts reporting, the broken one degraded', async () => {
      const all = await list();
      return byName(all, 'broken')?.state === 'degraded' && byName(all, 'h100')?.gpuStatus?.state === 'ok'
        ? all
        : undefined;
    });
    expect(byName(listed, 'broken')).toMatchObject({
      gpus: [],
      gpuStatus: { state: 'failing', message: expect.stringContaining("couldn't communicate with the NVIDIA driver") },
    });
    expect(byName(listed, 'h100')).toMatchObject({ state: 'online', fresh: true, gpuStatus: { state: 'ok' } });

    const table = (await runYard(['servers', '--data-dir', ctlDir])).stdout;
    expect(table).toMatch(/^h100 +online +agent +\d+% +\d+% +8× H100 80GB HBM3 /m);
    expect(table).toMatch(/^broken +degraded +agent +\d+% +\d+% +nvidia-smi failing /m);
    expect(table).toMatch(
      /^broken: nvidia-smi failing since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+s\), its GPUs unknown: nvidia-smi .*failed: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver/m,
    );

    // A killed agent: the controller says disconnected, and its last numbers are no longer "now".
    h100.child.kill('SIGKILL');
    await waitFor(
      'the killed host disconnected',
      async () => ['disconnected', 'down'].includes(byName(await list(), 'h100')?.state ?? '') || undefined,
    );
    expect(byName(await list(), 'h100')).toMatchObject({ fresh: false });
    expect((await runYard(['servers', '--data-dir', ctlDir])).stdout).toMatch(
      /^h100 +(disconnected|down) +agent +\? +\? +8× H100 80GB HBM3 /m,
    );
  }, 60_000);
});
