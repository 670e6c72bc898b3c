// A workload's state dir ⇄ one uncompressed tar file (checkpoints are moved on fast links,
// where gzip would cost more time than it saves). Packing hashes while it writes; unpacking
// (unpack.ts) reads only that format, checks every entry as it streams and swaps the result in
// only when everything passed.
import { createHash } from 'node:crypto';
import { createWriteStream, type Stats } from 'node:fs';
import { lstat, readdir, readlink, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { create, type Pack } from 'tar';
import { errorMessage, YardError } from '../../core/errors.js';
import { EntryCheck, EntryViolation } from './entry-check.js';

export { unpackArchive } from './unpack.js';

export interface PackResult {
  sha256: string;
  size: number;
}

/** Tars the contents of `dir` into `outFile` (paths relative to `dir`). */
export async function packStateDir(dir: string, outFile: string, opts: { maxBytes: number }): Promise<PackResult> {
  const contentBytes = await checkStateDir(dir, opts.maxBytes);
  if (contentBytes > opts.maxBytes) throw tooLarge(dir, `its files hold ${contentBytes} bytes`, opts.maxBytes);
  const partial = `${outFile}.partial`;
  try {
    await rm(partial, { force: true }); // a leftover would keep its old mode
    const result = await writeArchive(dir, partial, opts.maxBytes);
    await rename(partial, outFile);
    return result;
  } catch (err) {
    await rm(partial, { force: true });
    if (err instanceof YardError) throw err;
    throw new YardError(
      'CHECKPOINT_FAILED',
      `could not pack state dir ${dir} into ${outFile}: ${errorMessage(err)}; check the disk and try the checkpoint again`,
      { dir },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Packing

/**
 * Walks the state dir: its total file size, and the same entry checks the target will apply,
 * so a dir the target would refuse (a link out of it, say) fails here, before it is moved.
 */
export async function checkStateDir(dir: string, maxBytes: number): Promise<number> {
  const check = new EntryCheck(Number.MAX_SAFE_INTEGER);
  let bytes = 0;
  const visit = async (rel: string): Promise<void> => {
    for (const name of await readdir(join(dir, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(dir, path));
      const type = entryType(st);
      if (type === undefined) continue;
      bytes += type === 'File' ? st.size : 0;
      if (bytes > maxBytes) return;
      const linkpath = type === 'SymbolicLink' ? await readlink(join(dir, path)) : undefined;
      check.add({ path, type, size: type === 'File' ? st.size : 0, mode: st.mode, linkpath });
      if (type === 'Directory') await visit(path);
      if (bytes > maxBytes) return;
    }
  };
  try {
    await visit('');
    if (bytes <= maxBytes) check.finish();
  } catch (err) {
    if (err instanceof EntryViolation) {
      throw new YardError(
        'CHECKPOINT_UNPORTABLE',
        `state dir ${dir} cannot be checkpointed: ${err.message}; a checkpoint may hold only files, directories and relative links inside the dir`,
        { dir, entry: err.entry },
      );
    }
    throw new YardError('CHECKPOINT_FAILED', `could not read state dir ${dir}: ${errorMessage(err)}`, { dir });
  }
  return bytes;
}

/** Sockets, FIFOs and devices are left out of a checkpoint: they cannot move between hosts. */
function entryType(st: Stats): 'File' | 'Directory' | 'SymbolicLink' | undefined {
  if (st.isFile()) return 'File';
  if (st.isDirectory()) return 'Directory';
  if (st.isSymbolicLink()) return 'SymbolicLink';
  return undefined;
}

/** node-tar packing `dir` as every agent writes it: "./" first, portable headers, no sockets. */
export function tarOf(dir: string, maxReadSize?: number): Pack {
  return create(
    {
      cwd: dir,
      portable: true,
      strict: true,
      maxReadSize,
      filter: (_path, st) => entryType(st as Stats) !== undefined,
    },
    ['.'],
  );
}

async function writeArchive(dir: string, file: string, maxBytes: number): Promise<PackResult> {
  const pack = tarOf(dir);
  const hash = createHash('sha256');
  let size = 0;
  // pipeline() tears every stream down on the first error (the size limit included) and
  // reports it once: no write left in flight on a destroyed file.
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > maxBytes) return done(tooLarge(dir, 'its archive', maxBytes));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  // Owner-only whatever the umask: the archive holds the workload's state.
  await pipeline(pack, meter, createWriteStream(file, { mode: 0o600 }));
  return { sha256: hash.digest('hex'), size };
}

export function tooLarge(dir: string, what: string, maxBytes: number): YardError {
  return new YardError(
    'CHECKPOINT_TOO_LARGE',
    `state dir ${dir} is too large to checkpoint: ${what} would exceed the limit of ${maxBytes} bytes; free space in the state dir or raise the checkpoint size limit`,
    {
      dir,
      maxBytes: String(maxBytes),
    },
  );
}
