// Who holds GPU memory, end to end: a real controller, a real agent whose nvidia-smi is the FAKE
// one replaying the recorded H100 gpu_burn + memhog processes under the pids of real processes
// (FAKE_NVIDIA_SMI_PIDS), and a real workload whose child takes gpu_burn's place. `yard gpu`
// and the attached dashboard's server view name that workload and the OS user it runs as.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ptyYard, type PtyScreen } from '../helpers/pty.js';
import {
  assertBuilt,
  FAKE_NVIDIA_SMI,
  freePort,
  joinArgs,
  runYard,
  startControllerProc,
  tempDir,
  waitFor,
  YardProcess,
} from '../helpers/procs.js';

const me = userInfo().username;

/** The recorded pids of test/fixtures/nvidia-smi/h100-load.compute-apps.csv. */
const GPU_BURN = 11345; // 15690 MiB
const MEMHOG_A = 11327; // 2566 MiB
const MEMHOG_B = 11328; // 1542 MiB

interface Listed {
  server: string;
  fresh: boolean;
  gpus: {
    index: number;
    processes: {
      pid: number;
      user: string | null;
      workload: string | null;
      usedMemoryMiB: number | null;
      command: string;
    }[];
  }[];
  users: {
    user: string | null;
    usedMemoryMiB: number | null;
    processes: number;
    gpus: number[];
    workloads: string[];
  }[];
}

/** A pid that was a real process a moment ago and is gone now. */
async function gonePid(): Promise<number> {
  const proc = spawn('true');
  await once(proc, 'exit');
  return proc.pid!;
}

/** Ends a workload's process group (its pty's hangup would end it with its agent, a little later). */
function endGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

describe('GPU users on a real fleet', () => {
  const ctlDir = tempDir('yard-ctl-');
  const work = tempDir('yard-gpu-users-');
  const pidsFile = join(work, 'pids.json');
  const childFile = join(work, 'child.pid');
  const procs: YardProcess[] = [];
  let dash: PtyScreen | undefined;
  let child = 0;
  let gone = 0;
  let agent: YardProcess;

  beforeAll(async () => {
    assertBuilt();
    const port = await freePort();
    const controller = startControllerProc(ctlDir, port);
    procs.push(controller);
    await controller.waitForOutput(/controller listening/);
    agent = new YardProcess(
      [
        'agent',
        '--controller',
        `127.0.0.1:${port}`,
        '--data-dir',
        tempDir('yard-agent-'),
        '--interval',
        '250ms',
        '--name',
        'gpu1',
        '--nvidia-smi',
        FAKE_NVIDIA_SMI,
        ...joinArgs(ctlDir),
      ],
      { FAKE_NVIDIA_SMI_FIXTURE: 'h100-load', FAKE_NVIDIA_SMI_PIDS: pidsFile },
    );
    procs.push(agent);
    await agent.waitForOutput(/agent started/, 20_000);
    // The workload's child holds the GPU memory, as a trainer a launcher started would.
    const run = await runYard([
      'run',
      '--on',
      'gpu1',
      '--name',
      'trainer',
      '--data-dir',
      ctlDir,
      '--',
      'sh',
      '-c',
      `sleep 300 & echo $! > ${childFile}; wait`,
    ]);
    expect(run.code, run.stderr).toBe(0);
    child = await waitFor('the workload to start its child', () =>
      existsSync(childFile) ? Number(readFileSync(childFile, 'utf8')) || undefined : undefined,
    );
    gone = await gonePid();
    // gpu_burn becomes the workload's child, one memhog this test process (not ours), the other a process that ended.
    writeFileSync(pidsFile, JSON.stringify({ [GPU_BURN]: child, [MEMHOG_A]: process.pid, [MEMHOG_B]: gone }));
  }, 60_000);

  afterAll(async () => {
    await dash?.stop();
    await Promise.all(procs.reverse().map((p) => p.stop()));
  });

  it('yard gpu --json names the workload and user of each GPU process, and sums memory per user', async () => {
    const listed = await waitFor(
      'gpu_burn under the workload child’s pid, told as the workload',
      async () => {
        const all = JSON.parse((await runYard(['gpu', '--json', '--data-dir', ctlDir])).stdout) as Listed[];
        const procs = all[0]?.gpus[0]?.processes ?? [];
        return procs.some((p) => p.pid === child && p.workload === 'trainer') ? all : undefined;
      },
      20_000,
      250,
    );
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ server: 'gpu1', fresh: true });
    expect(listed[0]!.gpus[0]!.processes).toEqual([
      { pid: child, user: me, workload: 'trainer', usedMemoryMiB: 15690, command: './gpu_burn' },
      { pid: process.pid, user: me, workload: null, usedMemoryMiB: 2566, command: '/root/tools/memhog' },
      { pid: gone, user: null, workload: null, usedMemoryMiB: 1542, command: '/root/tools/memhog' },
    ]);
    expect(listed[0]!.users).toEqual([
      { user: me, usedMemoryMiB: 15690 + 2566, processes: 2, gpus: [0], workloads: ['trainer'] },
      { user: null, usedMemoryMiB: 1542, processes: 1, gpus: [0], workloads: [] },
    ]);
  }, 30_000);

  it('yard gpu SERVER prints the processes and the users as tables', async () => {
    const { code, stdout } = await runYard(['gpu', 'gpu1', '--data-dir', ctlDir]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^gpu1 \(1 GPU\)$/m);
    expect(stdout).toMatch(/^ {2}GPU +PID +USER +WORKLOAD +GPU MEM +COMMAND$/m);
    expect(stdout).toMatch(new RegExp(`^ {2}0 +${child} +${me} +trainer +15\\.3 GiB +\\./gpu_burn$`, 'm'));
    expect(stdout).toMatch(new RegExp(`^ {2}0 +${process.pid} +${me} +- +2\\.5 GiB +/root/tools/memhog$`, 'm'));
    expect(stdout).toMatch(new RegExp(`^ {2}0 +${gone} +\\? +- +1\\.5 GiB +/root/tools/memhog$`, 'm'));
    expect(stdout).toMatch(new RegExp(`^ {2}${me} +17\\.8 GiB +2 +0 +trainer$`, 'm'));
    expect(stdout).toMatch(/^ {2}\? +1\.5 GiB +1 +0 +-$/m);
    const missing = await runYard(['gpu', 'nosuch', '--data-dir', ctlDir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no server "nosuch": `yard servers` lists them');
    // The workload's GPU memory counts its child's.
    await waitFor(
      'the workload’s GPU memory in yard ps',
      async () => {
        const ps = JSON.parse((await runYard(['ps', '--json', '--data-dir', ctlDir])).stdout) as {
          name: string;
          gpuMemoryMiB: number | null;
        }[];
        return ps.find((w) => w.name === 'trainer')?.gpuMemoryMiB === 15690 || undefined;
      },
      10_000,
      250,
    );
  }, 30_000);

  it('shows the workload and the user in the attached dashboard’s server view', async () => {
    dash = ptyYard(['--data-dir', ctlDir], { cols: 120, rows: 40 });
    await dash.waitFor(/1\/1 online/, 20_000);
    await dash.press('\r');
    const screen = await dash.waitFor(
      (t) => /GPU processes \(3\)/.test(t) && new RegExp(`0 +${child} +${me} +trainer +15\\.3G`).test(t),
      20_000,
    );
    expect(screen).toMatch(/GPU users \(2\)/);
    expect(screen).toMatch(new RegExp(`${me} +17\\.8G +2 +0`));
  }, 60_000);

  it('lists no processes of a host that is no longer heard from, and says why', async () => {
    const workloadPid = (
      JSON.parse((await runYard(['ps', '--json', '--data-dir', ctlDir])).stdout) as { name: string; pid: number }[]
    ).find((w) => w.name === 'trainer')!.pid;
    agent.child.kill('SIGKILL');
    // Its workload's group goes with it, now, while that pid is surely still the workload's: pids
    // wrap fast here (pid_max 32768), and a group killed by a stale number later could be another
    // test's agent.
    endGroup(workloadPid);
    const text = await waitFor(
      'gpu1 no longer heard from',
      async () => {
        const { stdout } = await runYard(['gpu', 'gpu1', '--data-dir', ctlDir]);
        return /^gpu1 \(1 GPU\): (disconnected|down), last seen/m.test(stdout) ? stdout : undefined;
      },
      20_000,
      250,
    );
    expect(text).toMatch(/its GPU processes are unknown$/m);
    expect(text).not.toContain('gpu_burn');
    const [listed] = JSON.parse((await runYard(['gpu', '--json', '--data-dir', ctlDir])).stdout) as Listed[];
    expect(listed).toMatchObject({ server: 'gpu1', fresh: false, gpus: [], users: [] });
  }, 40_000);
});
