import { Metadata } from '@grpc/grpc-js';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { YardError, errorMessage } from '../core/errors.js';

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

/** Who this agent is to the controller: its server id, and the key that proves it. */
export interface AgentIdentity {
  serverId: string;
  key: string;
}

/**
 * The agent's key: made once, on first start, and kept owner-only in its data dir. Joining
 * binds it to the server id, so a leaked join token cannot claim this host.
 */
export async function loadOrCreateAgentKey(file: string): Promise<string> {
  try {
    const key = (await readFile(file, 'utf8')).trim();
    if (key) return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = `yard_agent_${randomBytes(32).toString('base64url')}`;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(`${file}.tmp`, key + '\n', { mode: 0o600 });
  await rename(`${file}.tmp`, file);
  return key;
}

/** What the agent's checkpoint and console streams carry. */
export function identityMetadata(id: AgentIdentity): Metadata {
  const md = new Metadata();
  md.set('x-yard-server-id', id.serverId);
  md.set('authorization', `Bearer ${id.key}`);
  return md;
}
