// Who holds GPU memory, told from real /proc entries of real processes this test starts: the
// workload by its own pid, by an ancestor's, or by the session it leads; the OS user from passwd.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuOwners } from '../../src/agent/metrics/gpu-owners.js';
import type { GpuProcess } from '../../src/core/types.js';
import { tempDir, waitFor } from '../helpers/procs.js';

const me = userInfo();
const UUID = 'GPU-00000000-0000-0000-0000-000000000000';

/**
 * A workload as the agent starts one (a session of its own, as its pty makes it): it prints the
 * pid of a child, then of a grandchild re-parented away from it, and becomes `sleep` itself.
 */
interface Started {
  proc: ChildProcess;
  child: number;
  orphan: number;
}

async function startWorkload(): Promise<Started> {
  const proc = spawn('sh', ['-c', 'sleep 60 & echo $!; (sleep 60 & echo $!); exec sleep 60'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  const child = Number((await lines.next()).value);
  const orphan = Number((await lines.next()).value);
  // Only the session still ties the orphan to the workload once its parent (the subshell) is gone.
  await waitFor('the grandchild re-parented out of the workload', () => {
    const parent = statusField(orphan, 'PPid');
    return parent !== undefined && statusField(parent, 'NSsid') !== proc.pid;
  });
  return { proc, child, orphan };
}

function statusField(pid: number, name: string): number | undefined {
  const m = new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : undefined;
}

/** A pid that was a real process a moment ago and is gone now. */
async function goneProcess(): Promise<number> {
  const proc = spawn('true');
  await once(proc, 'exit');
  return proc.pid!;
}

function gpuProc(pid: number, usedMemoryMib: number): GpuProcess {
  return { pid, name: 'python3', usedMemoryMib, user: '', workload: '' };
}

let w: Started;
beforeAll(async () => {
  w = await startWorkload();
});
afterAll(() => {
  // The whole session: the workload, its child and the re-parented grandchild.
  if (w?.proc.pid) process.kill(-w.proc.pid, 'SIGKILL');
});

describe('GpuOwners', () => {
  it('names the workload by its pid, an ancestor, or its session, and the user from passwd', async () => {
    const owners = new GpuOwners({ workloads: () => [{ name: 'trainer', pid: w.proc.pid! }] });
    const gone = await goneProcess();
    const described = await owners.describe(
      new Map([
        [
          UUID,
          [
            gpuProc(w.proc.pid!, 100),
            gpuProc(w.child, 200),
            gpuProc(w.orphan, 300),
            gpuProc(process.pid, 400),
            gpuProc(gone, 500),
          ],
        ],
      ]),
    );
    expect(described.get(UUID)).toEqual([
      { ...gpuProc(w.proc.pid!, 100), user: me.username, workload: 'trainer' },
      { ...gpuProc(w.child, 200), user: me.username, workload: 'trainer' },
      { ...gpuProc(w.orphan, 300), user: me.username, workload: 'trainer' },
      // Not ours: the test runner itself.
      { ...gpuProc(process.pid, 400), user: me.username, workload: '' },
      // Ended before it could be looked at: unknown, not guessed.
      { ...gpuProc(gone, 500), user: '', workload: '' },
    ]);
  });

  it('shows a uid without a passwd entry as its number, and a new entry once passwd changes', async () => {
    const passwd = join(tempDir('yard-passwd-'), 'passwd');
    writeFileSync(passwd, 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
    const owners = new GpuOwners({ workloads: () => [], passwd });
    const ask = async () => (await owners.describe(new Map([[UUID, [gpuProc(w.child, 1)]]]))).get(UUID)![0]!.user;
    expect(await ask()).toBe(String(me.uid));

    writeFileSync(passwd, `nobody:x:65534:65534::/:/bin/false\nops-${me.uid}:x:${me.uid}:${me.gid}::/:/bin/sh\n`);
    const later = new Date(Date.now() + 5_000);
    utimesSync(passwd, later, later);
    expect(await ask()).toBe(`ops-${me.uid}`);
  });

  it('tells no workload once the workload has no process, and keeps the user', async () => {
    const owners = new GpuOwners({ workloads: () => [{ name: 'trainer', pid: 0 }] });
    const described = await owners.describe(new Map([[UUID, [gpuProc(w.child, 1)]]]));
    expect(described.get(UUID)).toEqual([{ ...gpuProc(w.child, 1), user: me.username, workload: '' }]);
  });
});
