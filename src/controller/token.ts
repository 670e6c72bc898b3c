import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';

/**
 * A secret made on first start and kept (0600) in the data dir: the join token (agents) and
 * the operator token (Control over TCP) are two of them, so one never works as the other.
 */
export async function loadOrCreateToken(file: string, prefix = 'yard_'): Promise<string> {
  try {
    const token = (await readFile(file, 'utf8')).trim();
    if (token) return token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = newSecret(prefix);
  await writeFile(file, token + '\n', { mode: 0o600, flag: 'w' });
  return token;
}

/** A new secret in place of the kept one (`yard token rotate`): written aside, then renamed over it. */
export async function replaceToken(file: string, prefix = 'yard_'): Promise<string> {
  const token = newSecret(prefix);
  await writeFile(`${file}.tmp`, token + '\n', { mode: 0o600 });
  await rename(`${file}.tmp`, file);
  return token;
}

function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(24).toString('base64url')}`;
}

export function tokensEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
