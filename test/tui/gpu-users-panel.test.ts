// The server view's GPU processes and GPU users panes, headless: who holds memory on which GPU
// (nvitop's process panel) and how much each OS user holds across the host (all-smi's Users tab).
import { afterEach, describe, expect, it } from 'vitest';
import type { GpuProcess } from '../../src/core/types.js';
import { HOSTS, makeSample, sampleFleet } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => h?.close());

const GIB = 1024;

/** What the agent would report on the 4xA100 host: two users, one workload, one process not ours, one whose owner is unknown. */
const PROCESSES: GpuProcess[][] = [
  [
    { pid: 4242, name: 'python3 train.py', usedMemoryMib: 30 * GIB, user: 'alice', workload: 'trainer' },
    { pid: 4300, name: '/usr/bin/memhog', usedMemoryMib: 2 * GIB, user: 'bob', workload: '' },
  ],
  [{ pid: 4243, name: 'python3 train.py', usedMemoryMib: 28 * GIB, user: 'alice', workload: 'trainer' }],
  [],
  [{ pid: 9001, name: '[Insufficient Permissions]', usedMemoryMib: undefined, user: '', workload: '' }],
];

/** The sample fleet with one more A100 sample that holds PROCESSES. */
function fleetWithProcesses() {
  const fleet = sampleFleet();
  const sample = makeSample(HOSTS.a100, 120, Date.now());
  sample.gpus.forEach((g, i) => {
    g.processes = PROCESSES[i]!;
  });
  fleet.record(HOSTS.a100.id, sample);
  return fleet;
}

async function openA100(cols: number, rows: number): Promise<Headless> {
  h = openHeadless(fleetWithProcesses(), { cols, rows });
  await h.press('l', KEY.enter);
  return h;
}

/** Every page of the server view's panes, joined. */
async function allPages(view: Headless): Promise<string> {
  const pages = Number(/page 1\/(\d+)/.exec(view.text())?.[1] ?? 1);
  const screens = [view.text()];
  for (let i = 1; i < pages; i++) {
    await view.press(KEY.pageDown);
    screens.push(view.text());
  }
  return screens.join('\n');
}

describe('server view GPU panes', () => {
  it('lists each GPU process with its GPU, pid, user, workload (or -), memory and command at 240x48', async () => {
    const screen = (await openA100(240, 48)).text();
    expect(screen).toContain('GPU processes (4)');
    expect(screen).toMatch(/GPU +PID +USER +WORKLOAD +GPU MEM +COMMAND/);
    expect(screen).toMatch(/ 0 +4242 +alice +trainer +30\.0G +python3 train\.py/);
    expect(screen).toMatch(/ 0 +4300 +bob +- +2\.0G +\/usr\/bin\/memhog/);
    expect(screen).toMatch(/ 1 +4243 +alice +trainer +28\.0G +python3 train\.py/);
    expect(screen).toMatch(/ 3 +9001 +– +- +– +\[Insufficient/);
  });

  it('sums GPU memory per OS user across the host, biggest holder first', async () => {
    const screen = (await openA100(200, 48)).text();
    expect(screen).toContain('GPU users (3)');
    expect(screen).toMatch(/USER +GPU MEM +PROCS +GPUS +WORKLOADS/);
    const alice = screen.search(/alice +58\.0G +2 +0,1 +trainer/);
    const bob = screen.search(/bob +2\.0G +1 +0 +-/);
    const unknown = screen.search(/– +– +1 +3 +-/);
    expect(alice).toBeGreaterThan(-1);
    expect(bob).toBeGreaterThan(alice);
    expect(unknown).toBeGreaterThan(bob);
  });

  it('keeps user and workload on an 80x24 terminal, on some page, inside the screen', async () => {
    const view = await openA100(80, 24);
    const screens = await allPages(view);
    expect(screens.split('\n').every((l) => [...l].length <= 80)).toBe(true);
    expect(screens).toMatch(/ 0 +\d+ +alice +trainer +30\.0G/);
    expect(screens).toMatch(/alice +58\.0G +2 +0,1/);
  });

  it('shows no GPU panes on a host without GPUs', async () => {
    h = openHeadless(fleetWithProcesses(), { cols: 160, rows: 48 });
    await h.press(KEY.enter);
    const screen = h.text();
    expect(screen).toContain('cpu-web-02');
    expect(screen).not.toContain('GPU processes');
    expect(screen).not.toContain('GPU users');
  });
});
