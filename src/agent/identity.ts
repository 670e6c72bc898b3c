import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { YardError, errorMessage } from '../core/errors.js';
import type { AgentTls } from './tls.js';

/** The agent's stable server id, made once and kept in its data dir: a host is the same host across restarts. */
export async function loadOrCreateServerId(file: string): Promise<string> {
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== undefined) {
    try {
      const id = (JSON.parse(text) as { id?: unknown }).id;
      if (typeof id === 'string' && id) return id;
    } catch (err) {
      throw new YardError(
        'IDENTITY_CORRUPT',
        `agent identity file ${file} is unreadable (${errorMessage(err)}); fix it, or delete it to register as a new server`,
        { file },
      );
    }
    throw new YardError(
      'IDENTITY_CORRUPT',
      `agent identity file ${file} has no "id"; fix it, or delete it to register as a new server`,
      { file },
    );
  }
  const id = randomUUID();
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, JSON.stringify({ id, createdMs: Date.now() }, null, 2) + '\n');
  await rename(`${file}.tmp`, file);
  return id;
}

/** Who this agent is to the controller: its server id, and the certificate that proves it. */
export interface AgentIdentity {
  serverId: string;
  tls: AgentTls;
}
