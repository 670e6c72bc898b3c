import { readFile, rm, writeFile } from 'node:fs/promises';
import { YardError } from '../core/errors.js';
import { processAlive } from '../core/pid.js';

/** The pid of a live agent holding `file`, if any. */
export async function runningAgentPid(file: string): Promise<number | undefined> {
  const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !processAlive(pid)) return undefined;
  return (await isAgent(pid)) ? pid : undefined;
}

/**
 * Whether `pid` runs `yard agent`: a pid file left by an agent that was killed may name a pid
 * another process has since been given, which must be neither signalled nor taken for the agent.
 * Where /proc cannot tell (another OS, another user's process), a live pid is taken at its word.
 */
async function isAgent(pid: number): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  return cmdline === undefined || cmdline.split('\0').includes('agent');
}

/** One agent per data dir: two would claim the same server id and fight over it. */
export async function claimPidFile(file: string): Promise<() => Promise<void>> {
  const other = await runningAgentPid(file);
  if (other !== undefined) {
    throw new YardError(
      'ALREADY_RUNNING',
      `an agent already runs for this data dir (pid ${other}, ${file}); stop it first or use another --data-dir`,
      { pid: String(other) },
    );
  }
  await writeFile(file, `${process.pid}\n`);
  return () => rm(file, { force: true });
}
