import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForStop } from '../../src/agent/workloads/usage.js';

/**
 * A freeze SIGSTOPs the workload's process group. A shell loop (dash vforks each command) is
 * often caught between its vfork and the child's exec: the child stops, and the shell waits in
 * uninterruptible sleep (D) for it — never in state T. Such a shell is frozen all the same.
 */
describe('freezing a shell loop', () => {
  let pid = 0;
  afterEach(() => {
    // Once only: a stale group number could name another test's processes later (pids wrap).
    if (pid) process.kill(-pid, 'SIGKILL');
    pid = 0;
  });

  it('counts the workload stopped every time, including a shell caught waiting on its vfork child', async () => {
    const child = spawn('/bin/sh', ['-c', 'while :; do sleep 0.01; done'], { detached: true, stdio: 'ignore' });
    pid = child.pid!;
    const outcomes: string[] = [];
    // About 1 in 100 freezes lands in the vfork window here; 300 make a miss unlikely, each a few ms.
    for (let i = 0; i < 300; i++) {
      await new Promise((r) => setTimeout(r, 3 + (i % 7)));
      const r = await waitForStop(pid, () => process.kill(-pid, 'SIGSTOP'), 1000);
      outcomes.push(typeof r === 'string' ? r : `timeout (states ${r.timeout})`);
      process.kill(-pid, 'SIGCONT');
    }
    expect(outcomes.filter((o) => o !== 'stopped')).toEqual([]);
  }, 60_000);

  it('waits for every process in the group, not only its leader', async () => {
    // The shell leads the group and waits on two busy children (no job control: same group).
    const child = spawn('/bin/sh', ['-c', '(while :; do :; done) & (while :; do :; done) & wait'], {
      detached: true,
      stdio: 'ignore',
    });
    pid = child.pid!;
    const children = () => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean);
    for (let i = 0; i < 200 && children().length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(children()).toHaveLength(2);

    // Stopping the leader alone leaves the children running: not frozen.
    const leaderOnly = await waitForStop(pid, () => process.kill(pid, 'SIGSTOP'), 500);
    expect(leaderOnly).toEqual({ timeout: expect.stringContaining('R') });
    expect(await waitForStop(pid, () => process.kill(-pid, 'SIGSTOP'), 1000)).toBe('stopped');
  });
});
