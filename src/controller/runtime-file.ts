import { readFile, rm, writeFile } from 'node:fs/promises';
import { YardError } from '../core/errors.js';
import { processAlive } from '../core/pid.js';

/** controller.json: while a controller runs, where it listens, so the CLI can find it. */
export interface RuntimeInfo {
  pid: number;
  address: string;
  controllerId: string;
  startedMs: number;
}

/** The runtime info of a controller that is still running, or undefined. */
export async function readRuntime(file: string): Promise<RuntimeInfo | undefined> {
  let info: RuntimeInfo;
  try {
    info = JSON.parse(await readFile(file, 'utf8')) as RuntimeInfo;
  } catch (err) {
    // Not ours to read: a controller may well run there, for another user. Say so, not "none".
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new YardError(
        'PERMISSION_DENIED',
        `cannot read ${file}: its data dir belongs to another user; run as that user, or use --controller HOST:PORT with the operator token`,
      );
    }
    return undefined;
  }
  return typeof info.pid === 'number' && typeof info.address === 'string' && processAlive(info.pid) ? info : undefined;
}

export async function writeRuntime(file: string, info: RuntimeInfo): Promise<void> {
  await writeFile(file, JSON.stringify(info, null, 2) + '\n');
}

export async function removeRuntime(file: string): Promise<void> {
  await rm(file, { force: true });
}

/** standby.json: a controller on etcd following the leader (relaying to it), and who leads: the CLI on its host uses its socket. */
export interface StandbyInfo {
  pid: number;
  leader: string;
}

export async function readStandby(file: string): Promise<StandbyInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(file, 'utf8')) as StandbyInfo;
    return typeof info.pid === 'number' && typeof info.leader === 'string' && processAlive(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

export async function writeStandby(file: string, info: StandbyInfo): Promise<void> {
  await writeFile(file, JSON.stringify(info, null, 2) + '\n');
}
