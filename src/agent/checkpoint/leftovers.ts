// What a transfer cut short by the agent's own death leaves on disk: archives in the outbox
// (packed for a peer or the controller) and the inbox (downloaded through the relay), and the
// half-unpacked dirs beside a workload's state dir (unpack.ts writes into `.state.unpack-*` and
// swaps it in only when whole). Each belonged to a command of the process that died: the
// archives' table lives in its memory, and a migration it served was rolled back or finished
// without it. So a starting agent, alone on its data dir (the pid file), removes them.
import { readdir, rename, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';

const PARTIAL_STATE = /^\.state\.unpack-/;

/** Removes the leftovers of transfers in `dataDir`; says what it removed. */
export async function removeTransferLeftovers(dataDir: string, log: Logger): Promise<void> {
  const removed: string[] = [];
  const remove = async (path: string) => {
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  };
  try {
    for (const box of ['inbox', 'outbox'])
      for (const name of await list(join(dataDir, box))) await remove(join(dataDir, box, name));
    const workloads = join(dataDir, 'workloads');
    for (const name of await list(workloads)) {
      const dir = join(workloads, name);
      const entries = await list(dir);
      for (const e of entries.filter((e) => PARTIAL_STATE.test(e))) {
        // Died between the two renames of a swap: the state moved aside is the state.
        if (e.endsWith('.old') && !entries.includes('state')) await rename(join(dir, e), join(dir, 'state'));
        else await remove(join(dir, e));
      }
      // A workload this agent never installed: the unpack made its dir, and nothing else is in it.
      if (entries.length > 0 && entries.every((e) => PARTIAL_STATE.test(e))) await rmdir(dir).catch(() => undefined);
    }
  } catch (err) {
    log.warn(`could not remove what interrupted transfers left in ${dataDir}: ${errorMessage(err)}`);
  }
  if (removed.length > 0)
    log.info(`removed ${removed.length} partial checkpoint(s) left by an interrupted transfer`, {
      paths: removed.join(' '),
    });
}

async function list(dir: string): Promise<string[]> {
  return readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
    throw err;
  });
}
