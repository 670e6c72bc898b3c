// A workload's state dir ⇄ one uncompressed tar file (checkpoints are moved on fast links,
// where gzip would cost more time than it saves). Packing hashes while it writes; unpacking
// hashes and lists every entry before anything is written, extracts into a fresh dir next to
// the destination and swaps it in only when everything passed.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type Stats } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readlink, rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { create, extract, Parser, type ReadEntry } from 'tar';
import { errorMessage, YardError } from '../../core/errors.js';
import { EntryCheck, EntryViolation, type EntryFacts } from './entry-check.js';

export interface PackResult {
  sha256: string;
  size: number;
}

export interface UnpackResult {
  files: number;
  bytes: number;
}

/** Tars the contents of `dir` into `outFile` (paths relative to `dir`). */
export async function packStateDir(dir: string, outFile: string, opts: { maxBytes: number }): Promise<PackResult> {
  const contentBytes = await checkStateDir(dir, opts.maxBytes);
  if (contentBytes > opts.maxBytes) throw tooLarge(dir, `its files hold ${contentBytes} bytes`, opts.maxBytes);
  const partial = `${outFile}.partial`;
  try {
    const result = await writeArchive(dir, partial, opts.maxBytes);
    await rename(partial, outFile);
    return result;
  } catch (err) {
    await rm(partial, { force: true });
    if (err instanceof YardError) throw err;
    throw new YardError('CHECKPOINT_FAILED', `could not pack state dir ${dir} into ${outFile}: ${errorMessage(err)}; check the disk and try the checkpoint again`, { dir });
  }
}

/**
 * Unpacks `file` into `destDir`, replacing what was there, or leaves `destDir` untouched and
 * throws CHECKSUM_MISMATCH, HOSTILE_ARCHIVE or BAD_ARCHIVE.
 */
export async function unpackArchive(file: string, destDir: string, opts: { maxBytes: number; sha256?: string }): Promise<UnpackResult> {
  const { check, result } = await inspectArchive(file, destDir, opts);
  await mkdir(dirname(destDir), { recursive: true });
  const fresh = await mkdtemp(join(dirname(destDir), `.${basename(destDir)}.unpack-`));
  try {
    await extractChecked(file, fresh, destDir, check);
    await swapInto(fresh, destDir);
    return result;
  } catch (err) {
    await rm(fresh, { recursive: true, force: true });
    if (err instanceof YardError) throw err;
    throw new YardError('BAD_ARCHIVE', `could not unpack checkpoint ${file} into ${destDir}: ${errorMessage(err)}; ${destDir} was left as it was; take the checkpoint again`, { file });
  }
}

// ---------------------------------------------------------------------------------------------
// Packing

/**
 * Walks the state dir: its total file size, and the same entry checks the target will apply,
 * so a dir the target would refuse (a link out of it, say) fails here, before it is moved.
 */
async function checkStateDir(dir: string, maxBytes: number): Promise<number> {
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
      throw new YardError('CHECKPOINT_UNPORTABLE', `state dir ${dir} cannot be checkpointed: ${err.message}; a checkpoint may hold only files, directories and relative links inside the dir`, { dir, entry: err.entry });
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

async function writeArchive(dir: string, file: string, maxBytes: number): Promise<PackResult> {
  const pack = create({ cwd: dir, portable: true, strict: true, filter: (_path, st) => entryType(st as Stats) !== undefined }, ['.']);
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
  await pipeline(pack, meter, createWriteStream(file));
  return { sha256: hash.digest('hex'), size };
}

function tooLarge(dir: string, what: string, maxBytes: number): YardError {
  return new YardError('CHECKPOINT_TOO_LARGE', `state dir ${dir} is too large to checkpoint: ${what} would exceed the limit of ${maxBytes} bytes; free space in the state dir or raise the checkpoint size limit`, {
    dir,
    maxBytes: String(maxBytes),
  });
}

// ---------------------------------------------------------------------------------------------
// Unpacking

function facts(e: ReadEntry): EntryFacts {
  return { path: e.path, type: e.type, size: e.size, mode: e.mode, linkpath: e.linkpath };
}

/** One read of the archive: its sha256 and every entry through EntryCheck. Writes nothing. */
async function inspectArchive(file: string, destDir: string, opts: { maxBytes: number; sha256?: string }): Promise<{ check: EntryCheck; result: UnpackResult }> {
  const check = new EntryCheck(opts.maxBytes);
  const hash = createHash('sha256');
  let refused: EntryViolation | undefined;
  let broken: unknown;
  const parser = new Parser({
    strict: true,
    onReadEntry: (e: ReadEntry) => {
      e.resume();
      if (refused) return;
      try {
        check.add(facts(e));
      } catch (err) {
        if (!(err instanceof EntryViolation)) throw err;
        refused = err;
      }
    },
  });
  parser.on('error', (err: unknown) => (broken ??= err));
  const parsed = new Promise<void>((resolve) => {
    parser.on('end', resolve);
    parser.on('error', () => resolve());
  });
  const input = createReadStream(file);
  for await (const chunk of input as AsyncIterable<Buffer>) {
    hash.update(chunk);
    // Without a checksum to verify there is no reason to read past the first refusal.
    if ((refused || broken) && !opts.sha256) break;
    if (!refused && !broken && !parser.write(chunk)) await Promise.race([once(parser, 'drain'), parsed]);
  }
  input.destroy();
  if (opts.sha256 !== undefined) {
    const actual = hash.digest('hex');
    if (actual !== opts.sha256.toLowerCase()) {
      throw new YardError('CHECKSUM_MISMATCH', `checkpoint ${file} has sha256 ${actual} but ${opts.sha256} was expected; it was damaged in transfer; ${destDir} was left as it was; transfer it again`, {
        file,
        expected: opts.sha256,
        actual,
      });
    }
  }
  if (!refused && !broken) {
    parser.end();
    await parsed;
  }
  if (refused) throw hostile(file, destDir, refused);
  if (broken) throw new YardError('BAD_ARCHIVE', `checkpoint ${file} is not a readable tar archive (${errorMessage(broken)}); ${destDir} was left as it was; take the checkpoint again`, { file });
  try {
    return { check, result: check.finish() };
  } catch (err) {
    if (err instanceof EntryViolation) throw hostile(file, destDir, err);
    throw err;
  }
}

function hostile(file: string, destDir: string, v: EntryViolation): YardError {
  return new YardError('HOSTILE_ARCHIVE', `refused checkpoint ${file}: ${v.message}; nothing was unpacked and ${destDir} was left as it was; check where this archive came from`, {
    file,
    entry: v.entry,
    reason: v.reason,
  });
}

/** Extracts only entries exactly as inspected: an archive that changed since is refused. */
async function extractChecked(file: string, into: string, destDir: string, check: EntryCheck): Promise<void> {
  let changed: string | undefined;
  await extract({
    file,
    cwd: into,
    strict: true,
    preserveOwner: false,
    filter: (path, entry) => {
      if (check.approved(facts(entry as ReadEntry))) return true;
      changed ??= path;
      return false;
    },
  });
  if (changed !== undefined) throw hostile(file, destDir, new EntryViolation(changed, 'changed between the check and the unpack'));
}

/** Puts `fresh` where `destDir` is; the old dir is moved aside first and removed after. */
async function swapInto(fresh: string, destDir: string): Promise<void> {
  const old = `${fresh}.old`;
  const hadOld = await rename(destDir, old).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
  try {
    await rename(fresh, destDir);
  } catch (err) {
    if (hadOld) await rename(old, destDir);
    throw err;
  }
  if (hadOld) await rm(old, { recursive: true, force: true });
}
