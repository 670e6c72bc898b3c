import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  FAKE_NVIDIA_SMI,
  freePort,
  joinArgs,
  runYard,
  startAgentProc,
  startControllerProc,
  tempDir,
  waitFor,
  type YardProcess,
} from '../helpers/procs.js';

interface ServerJson {
  id: string;
  name: string;
  state: string;
  labels: Record<string, string>;
  lastSeen: string | null;
  gpus: {
    name: string;
    uuid: string;
    utilization: number | null;
    memoryUsedMiB: number | null;
    memoryTotalMiB: number | null;
    temperatureC: number | null;
    powerW: number | null;
  }[];
}

describe('a controller and three real agents on 127.0.0.1', () => {
  const dataDir = tempDir('yard-ctl-');
  let port: number;
  let controller: YardProcess;
  const agents: YardProcess[] = [];
  const agentDirs = [tempDir('yard-a1-'), tempDir('yard-a2-'), tempDir('yard-a3-')];

  const servers = async (): Promise<ServerJson[]> => {
    const r = await runYard(['servers', '--json', '--data-dir', dataDir]);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as ServerJson[];
  };
  const stateOf = async (name: string) => (await servers()).find((s) => s.name === name)?.state;
  const startAgent = (i: number) =>
    startAgentProc(`127.0.0.1:${port}`, agentDirs[i]!, [
      '--name',
      `node-${i + 1}`,
      '--labels',
      `rack=r${i + 1},role=test`,
      '--nvidia-smi',
      i === 0 ? FAKE_NVIDIA_SMI : '/nonexistent/nvidia-smi',
      ...joinArgs(dataDir),
    ]);

  beforeAll(async () => {
    assertBuilt();
    port = await freePort();
    controller = startControllerProc(dataDir, port);
    await controller.waitForOutput(/controller listening/);
    for (let i = 0; i < 3; i++) agents.push(startAgent(i));
  });

  afterAll(async () => {
    await Promise.all([...agents, controller].map((p) => p.kill('SIGKILL')));
  });

  it('lists all three online, with labels, last-seen and the GPUs nvidia-smi reports', async () => {
    const list = await waitFor('three servers online', async () => {
      const l = await servers();
      return l.length === 3 &&
        l.every((s) => s.state === 'online' && s.gpus !== undefined) &&
        l[0]!.gpus[0]?.utilization !== undefined &&
        l[0]!.gpus[0]?.utilization !== null
        ? l
        : undefined;
    });
    expect(list.map((s) => s.name)).toEqual(['node-1', 'node-2', 'node-3']);
    expect(list[1]!.labels).toEqual({ rack: 'r2', role: 'test' });
    expect(Date.now() - Date.parse(list[1]!.lastSeen!)).toBeLessThan(5000);
    // node-1's fake nvidia-smi replays a real 8×H100 box under load (test/fixtures/nvidia-smi/h100-x8-load.csv):
    // the values arrive as recorded, and what that box reported as [N/A] arrives as null, not 0.
    const gpus = list[0]!.gpus;
    expect(gpus).toHaveLength(8);
    expect(gpus.map((g) => g.utilization)).toEqual([100, 98, 100, 100, 100, 98, 100, 99]);
    expect(gpus[0]).toMatchObject({
      name: 'NVIDIA H100 80GB HBM3',
      memoryUsedMiB: 78942,
      memoryTotalMiB: 81559,
      temperatureC: null,
      powerW: null,
    });
    expect(list[1]!.gpus).toEqual([]);
  });

  it('marks a SIGKILLed agent disconnected at once and down after its grace', async () => {
    await agents[1]!.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor('node-2 disconnected', async () => (await stateOf('node-2')) === 'disconnected', 1500, 50);
    await waitFor('node-2 down', async () => (await stateOf('node-2')) === 'down', 6000);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(2000);
  });

  it('brings the same server back online when its agent restarts', async () => {
    const before = (await servers()).find((s) => s.name === 'node-2')!;
    agents[1] = startAgent(1);
    await waitFor('node-2 online again', async () => (await stateOf('node-2')) === 'online');
    const after = await servers();
    expect(after).toHaveLength(3);
    expect(after.find((s) => s.name === 'node-2')!.id).toBe(before.id);
  });

  it('gets every agent back, without duplicates, after the controller restarts', async () => {
    const ids = (await servers()).map((s) => s.id).sort();
    await controller.kill('SIGKILL');
    controller = startControllerProc(dataDir, port);
    await controller.waitForOutput(/controller listening/);
    // Known from the store at once, before the agents are back.
    expect((await servers()).map((s) => s.id).sort()).toEqual(ids);
    const back = await waitFor(
      'all agents back',
      async () => {
        const l = await servers();
        return l.every((s) => s.state === 'online') ? l : undefined;
      },
      20_000,
    );
    expect(back.map((s) => s.id).sort()).toEqual(ids);
  });

  it('answers `yard status` with the fleet summary', async () => {
    const r = await runYard(['status', '--data-dir', dataDir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/servers\s+3 online, 0 degraded, 0 disconnected, 0 down — 3 in all/);
    expect(r.stdout).toMatch(/gpus\s+[1-9]/);
  });
});
