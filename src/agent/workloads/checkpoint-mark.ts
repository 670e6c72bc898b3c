// A mark left in a workload's dir while it checkpoints: what its state dir looked like when it
// was signalled. An agent that dies mid-checkpoint finds the mark when it starts again and can
// tell whether the workload saved after the signal (it outlives the agent long enough to finish
// a save it had begun), so it never starts the workload afresh over a checkpoint it just made.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const MARK = 'checkpoint-mark.json';
const POLL_MS = 50;

/**
 * When `pid` started (field 22 of /proc/PID/stat, in clock ticks since boot), or undefined when it
 * is gone or a zombie (it has exited; its parent, the dead agent, cannot reap it). With the pid
 * it names one process: a pid reused after a reboot or a long wait is another process.
 */
async function startOf(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (!stat || fields[0] === 'Z') return undefined;
  return fields[19];
}

async function running(pid: number, start: string): Promise<boolean> {
  return (await startOf(pid)) === start;
}

/**
 * The workload of a dead agent may still be saving: wait for it (bounded by its checkpoint
 * timeout), and end it if it outlives that, so a new run never joins an old one.
 */
async function waitGone(pid: number, start: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await running(pid, start)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, POLL_MS));
  if (await running(pid, start)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/** Every entry of the state dir with its inode, size and mtime, hashed: a save changes it. */
async function fingerprint(stateDir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (dir: string, rel: string): Promise<void> => {
    const names = (await readdir(dir).catch(() => [] as string[])).sort();
    for (const name of names) {
      const st = await lstat(join(dir, name)).catch(() => undefined);
      if (!st) continue;
      hash.update(`${rel}${name}:${st.ino}:${st.size}:${st.mtimeMs}\n`);
      if (st.isDirectory()) await walk(join(dir, name), `${rel}${name}/`);
    }
  };
  await walk(stateDir, '');
  return hash.digest('hex');
}

/** Before the signal: the state dir as it is, and the process that is asked to save. */
export async function markCheckpoint(workloadDir: string, stateDir: string, pid: number): Promise<void> {
  await writeFile(
    join(workloadDir, MARK),
    JSON.stringify({ fingerprint: await fingerprint(stateDir), pid, start: await startOf(pid) }),
    { mode: 0o600 },
  );
}

export function clearCheckpointMark(workloadDir: string): Promise<void> {
  return rm(join(workloadDir, MARK), { force: true });
}

/**
 * undefined: no mark (no checkpoint was cut short). Else, once the process that was asked to
 * save has exited: whether the state dir changed since the mark.
 */
export async function savedSinceMark(
  workloadDir: string,
  stateDir: string,
  saveTimeoutMs: number,
): Promise<boolean | undefined> {
  const text = await readFile(join(workloadDir, MARK), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let mark: { fingerprint?: unknown; pid?: unknown; start?: unknown } = {};
  try {
    mark = JSON.parse(text) as typeof mark;
  } catch {
    // A mark cut short itself: the signal was never sent.
    return false;
  }
  if (typeof mark.pid === 'number' && Number.isInteger(mark.pid) && mark.pid > 1 && typeof mark.start === 'string')
    await waitGone(mark.pid, mark.start, saveTimeoutMs);
  return mark.fingerprint !== (await fingerprint(stateDir));
}
