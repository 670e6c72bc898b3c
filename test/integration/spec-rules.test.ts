import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkloadSpec } from '../../src/core/workload.js';
import { workloadSpec } from '../helpers/specs.js';
import { control, socketOf } from '../helpers/control.js';
import {
  type YardProcess,
  assertBuilt,
  freePort,
  joinArgs,
  runYard,
  startAgentProc,
  startControllerProc,
  tempDir,
  waitFor,
} from '../helpers/procs.js';

// The reconciled input rules on a real controller and agent: one label flag, `--label k=v`
// (repeatable, or k=v,k2=v2) on `yard agent` and `yard run` alike, `--labels` (the agent's old
// spelling) still working and not in the help; and the workload spec's rules at the controller.
describe('one label flag and one spec schema, on a real controller and agent', () => {
  const dataDir = tempDir('yard-labels-');
  let controller: YardProcess;
  let agent: YardProcess;

  beforeAll(async () => {
    assertBuilt();
    const port = await freePort();
    controller = startControllerProc(dataDir, port);
    await controller.waitForOutput(/controller listening/);
    agent = startAgentProc(`127.0.0.1:${port}`, tempDir(), [
      '--name',
      'box',
      '--label',
      'gpu=h100',
      '--label',
      'zone=z1',
      '--labels',
      'rack=r1,role=test',
      ...joinArgs(dataDir),
    ]);
  });

  afterAll(async () => {
    await Promise.all([agent, controller].map((p) => p.kill('SIGKILL')));
  });

  it('gives an agent the labels of both spellings', async () => {
    const labels = await waitFor('the agent registered', async () => {
      const r = await runYard(['servers', '--json', '--data-dir', dataDir]);
      return (JSON.parse(r.stdout) as { labels: Record<string, string> }[])[0]?.labels;
    });
    expect(labels).toEqual({ gpu: 'h100', zone: 'z1', rack: 'r1', role: 'test' });
  });

  it('gives a workload the labels of both spellings', async () => {
    await waitFor('the agent registered', async () =>
      (await runYard(['servers', '--data-dir', dataDir])).stdout.includes('box') ? true : undefined,
    );
    const r = await runYard([
      'run',
      '--data-dir',
      dataDir,
      '--on',
      'box',
      '--name',
      'labelled',
      '--label',
      'team=ml',
      '--labels',
      'tier=a,cost=low',
      '--json',
      '--',
      'sleep',
      '30',
    ]);
    expect(r.stderr).toBe('');
    expect((JSON.parse(r.stdout) as { labels: Record<string, string> }).labels).toEqual({
      team: 'ml',
      tier: 'a',
      cost: 'low',
    });
  });

  it.each([['agent'], ['run']])('`yard %s --help` shows --label only', async (command) => {
    const r = await runYard([command, '--help']);
    expect(r.stdout).toMatch(/--label\s/);
    expect(r.stdout).not.toMatch(/--labels/);
  });

  it('names the spelling the operator typed in an error', async () => {
    const r = await runYard(['run', '--data-dir', dataDir, '--on', 'box', '--labels', 'bad key=1', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^yard: --labels key "bad key" may only hold letters, digits and \. _ \/ - \(at most 63\)$/m,
    );
  });

  // `yard run` refuses these itself (bad-flags.test.ts): a client sending the spec straight to the
  // controller meets the same rule, in the same words, and nothing starts on the agent.
  it.each([
    [
      'SIGKILL as the checkpoint signal',
      { checkpointSignal: 'SIGKILL' },
      'workload rogue: checkpointSignal SIGKILL cannot be caught',
    ],
    [
      'a SWITCHYARD_* variable',
      { env: { SWITCHYARD_PORT: '1' } },
      'workload rogue: env SWITCHYARD_PORT: the agent sets it',
    ],
    [
      'a checkpoint timeout over an hour',
      { checkpointTimeoutMs: 86_400_000 },
      'workload rogue: checkpointTimeoutMs "24h" is longer than an hour',
    ],
  ] as [string, Partial<WorkloadSpec>, string][])('the controller refuses %s at its edge', async (_, bad, message) => {
    const api = control(socketOf(dataDir));
    try {
      const err = await api
        .call(api.client.runWorkload, { server: 'box', spec: workloadSpec('rogue', 'sleep', { args: ['30'], ...bad }) })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect((err as Error | undefined)?.message).toContain(message);
      expect((await api.workloads()).map((w) => w.spec?.name)).not.toContain('rogue');
    } finally {
      api.close();
    }
  });
});
