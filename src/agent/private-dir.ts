import { chmod, mkdir, stat } from 'node:fs/promises';

/**
 * Makes `dir` owner-only (0700) whatever the umask, and tightens one an older version left
 * readable by everyone. A sticky dir (such as /tmp) passed by mistake is shared by design and
 * is left as it is.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await stat(dir);
  if ((st.mode & 0o1000) === 0 && (st.mode & 0o077) !== 0) await chmod(dir, 0o700);
}
