import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  chaosTable,
  chaosTotals,
  runChaos,
  type ChaosCluster,
  type ChaosResult,
  type Host,
} from '../../bench/chaos.js';
import { control, socketOf } from '../helpers/control.js';
import { assertBuilt, freePort, joinArgs, startAgentProc, startControllerProc, tempDir } from '../helpers/procs.js';

const COUNTER = resolve(import.meta.dirname, '../../dist/bench/chaos-counter.js');
/** Six runs: each kill target twice, aimed at checkpointing, transferring, restoring and verifying in turn. */
const RUNS = 6;

/**
 * The fault-injection suite, small: real controller and agents, one of them SIGKILLed mid-migration
 * and started again on its data dir; the workload's real processes must end on exactly one host,
 * never two at once, from its newest checkpoint. `npm run bench -- --only chaos` runs 200.
 */
describe('migrations with a process SIGKILLed at a random moment', () => {
  let result: ChaosResult;
  const ctlDir = tempDir('yard-chaos-ctl-');

  beforeAll(async () => {
    assertBuilt();
    if (!existsSync(COUNTER)) throw new Error(`${COUNTER} is missing: run \`npm run build\``);
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const agentDirs: Record<Host, string> = { h1: tempDir('yard-chaos-h1-'), h2: tempDir('yard-chaos-h2-') };
    const cluster: ChaosCluster = {
      async startController() {
        const p = startControllerProc(ctlDir, port, ['--verify', '500ms', '--cpu-limit', '100']);
        await p.waitForOutput(/controller listening/);
        return p;
      },
      startAgent: (h) =>
        startAgentProc(address, agentDirs[h], [
          '--name',
          h,
          '--nvidia-smi',
          '/nonexistent/nvidia-smi',
          ...joinArgs(ctlDir),
        ]),
      connect: () => control(socketOf(ctlDir)),
      agentDirs,
      workDir: tempDir('yard-chaos-runs-'),
    };
    result = await runChaos(cluster, {
      runs: RUNS,
      counter: COUNTER,
      seed: Date.now() % 100_000,
      log: (l) => process.stderr.write(l + '\n'),
    });
    process.stderr.write(chaosTable(result).join('\n') + '\n');
  }, 150_000);

  it('ends every migration committed, rolled back or failed, within a bound', () => {
    expect(result.runs).toHaveLength(RUNS);
    expect(result.runs.filter((r) => r.outcome === 'stuck')).toEqual([]);
  });

  it('leaves the workload on exactly one host after every run, and never on two at once', () => {
    expect(
      result.runs.filter((r) => r.hostsAtEnd !== 1).map((r) => `run ${r.run}: ${r.hostsAtEnd} hosts (${r.error})`),
    ).toEqual([]);
    expect(result.runs.filter((r) => r.maxHosts > 1).map((r) => `run ${r.run}: ${r.maxHosts} hosts at once`)).toEqual(
      [],
    );
  });

  it('goes on from its newest checkpoint, with a state that passes its checksum', () => {
    const t = chaosTotals(result.runs);
    expect(result.runs.flatMap((r) => r.olderState.map((s) => `run ${r.run}: ${s}`))).toEqual([]);
    expect(t.corrupt).toBe(0);
  });

  it('aimed kills at every kind of process', () => {
    expect(new Set(result.runs.map((r) => r.victim))).toEqual(new Set(['target agent', 'source agent', 'controller']));
  });
});
