// An agent on a host whose GPU driver hangs: nvidia-smi never answers (the FAKE
// test/fixtures/bin/nvidia-smi-hung, which also ignores SIGTERM). The agent must still join at
// once, keep at most one nvidia-smi alive however long it runs, and say the sampler is stuck;
// the controller counts the host as degraded.
import { readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
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

const HUNG_NVIDIA_SMI = resolve(import.meta.dirname, '../fixtures/bin/nvidia-smi-hung');

/** Every process running the script at `path` (as `node PATH …`), whoever its parent is now (orphans too). */
function processesRunning(path: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return argv[0] === path || argv[1] === path;
      } catch {
        return false; // it exited while we looked
      }
    })
    .map(Number);
}

describe('an agent whose nvidia-smi hangs', () => {
  const procs: YardProcess[] = [];
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
  });

  it('joins at once, never has two nvidia-smi alive, and logs the GPU sampler as stuck', async () => {
    assertBuilt();
    const ctlDir = tempDir('yard-ctl-');
    // A path of its own, so /proc tells this agent's nvidia-smi from any other test's.
    const bin = join(tempDir('yard-smi-'), 'nvidia-smi');
    symlinkSync(HUNG_NVIDIA_SMI, bin);
    const port = await freePort();
    const controller = startControllerProc(ctlDir, port);
    procs.push(controller);
    await controller.waitForOutput(/controller listening/);

    const t0 = Date.now();
    const agent = startAgentProc(`127.0.0.1:${port}`, tempDir('yard-hung-'), [
      '--name',
      'hung-gpu',
      '--nvidia-smi',
      bin,
      ...joinArgs(ctlDir),
    ]);
    procs.push(agent);
    let most = 0;
    const count = () => (most = Math.max(most, processesRunning(bin).length));
    const counter = setInterval(count, 50);
    try {
      await agent.waitForOutput(/connected to controller/);
      // Node start-up plus at most the 2 s it waits for a GPU list; it used to wait for good.
      expect(Date.now() - t0).toBeLessThan(8_000);
      const listed = await runYard(['servers', '--json', '--data-dir', ctlDir]);
      expect(JSON.parse(listed.stdout)).toEqual([
        expect.objectContaining({ name: 'hung-gpu', state: 'online', gpus: [] }),
      ]);
      // Past nvidia-smi's 10 s answer timeout, when it is declared stuck and signalled.
      await agent.waitForOutput(
        /nvidia-smi \(.*, pid \d+\) did not answer .* within 10s; .*no other nvidia-smi starts until it exits/,
        20_000,
      );
      // The controller counts it as degraded and says why, rather than listing a host with 0 GPUs.
      const stuck = await waitFor('the hung host degraded', async () => {
        const [s] = JSON.parse((await runYard(['servers', '--json', '--data-dir', ctlDir])).stdout) as {
          state: string;
          gpuStatus: { state: string; message: string } | null;
        }[];
        return s?.state === 'degraded' ? s : undefined;
      });
      expect(stuck.gpuStatus).toMatchObject({ state: 'stuck', message: expect.stringMatching(/did not answer/) });
      await new Promise((r) => setTimeout(r, 1_000));
    } finally {
      clearInterval(counter);
    }
    expect(most).toBe(1);
  }, 40_000);
});
