import { readFile, rm, writeFile } from 'node:fs/promises';
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
  } catch {
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
