// One streaming read of a checkpoint archive, from a file or straight off a connection: the
// first block must be what our agents write (tar-format.ts), then every entry is checked
// (entry-check.ts) and written, one after the other, into a fresh owner-only dir next to the
// destination, while every byte is hashed. The fresh dir is swapped in only when the sha256,
// every entry and every link passed; on any failure it is removed and the destination is left
// as it was. Memory stays bounded: the input is read a chunk at a time and never more than a few
// MB of it are parsed ahead of the disk, so a sender is held back to the disk's pace.
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { link, mkdir, mkdtemp, open, rename, rm, symlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import { errorMessage, YardError } from '../../core/errors.js';
import { EntryCheck, EntryViolation, type Accepted } from './entry-check.js';
import { notOurTar, TAR_BLOCK } from './tar-format.js';

export interface UnpackResult {
  files: number;
  bytes: number;
}

export interface UnpackOptions {
  maxBytes: number;
  /**
   * The archive's sha256, checked after its last byte; a promise when the sender learns it
   * only as it sends that byte (packToStream), as a trailer after the bytes.
   */
  sha256?: string | PromiseLike<string>;
  /** Default MAX_ENTRIES. */
  maxEntries?: number;
}

/** What is being unpacked, as error messages and details name it. */
interface Source {
  /** "checkpoint /path/ckpt.tar", "the checkpoint stream from host-b". */
  what: string;
  details: Record<string, string>;
}

const READ_CHUNK_BYTES = 64 * 1024;
/** Parsed but not yet on disk, at most (about): the unpack's memory beyond one input chunk. */
const WRITE_AHEAD_BYTES = 4 * 1024 * 1024;
const WRITE_BATCH_BYTES = 1024 * 1024;
/** What an entry counts for in a batch: many small files are written in batches too. */
const STEP_BYTES = 4096;

/**
 * Unpacks `file` into `destDir`, replacing what was there, or leaves `destDir` untouched and
 * throws CHECKSUM_MISMATCH, HOSTILE_ARCHIVE or BAD_ARCHIVE.
 */
export function unpackArchive(file: string, destDir: string, opts: UnpackOptions): Promise<UnpackResult> {
  const input = createReadStream(file, { highWaterMark: READ_CHUNK_BYTES });
  return unpackFrom(input, destDir, opts, { what: `checkpoint ${file}`, details: { file } });
}

/**
 * unpackArchive for an archive that is still arriving: the same checks, the same errors, and
 * the same swap, as the bytes stream in. Reads `input` at the pace of the disk, to its end;
 * destroys it on the first failure. `sender` names where it comes from in messages.
 */
export function unpackFromStream(
  input: Readable,
  destDir: string,
  opts: UnpackOptions & { sender?: string },
): Promise<UnpackResult> {
  const what = opts.sender ? `the checkpoint stream from ${opts.sender}` : 'the checkpoint stream';
  return unpackFrom(input, destDir, opts, { what, details: opts.sender ? { sender: opts.sender } : {} });
}

async function unpackFrom(input: Readable, destDir: string, opts: UnpackOptions, src: Source): Promise<UnpackResult> {
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    const first = await firstBlock(chunks);
    refuseForeignFormat(first, destDir, src);
    await mkdir(dirname(destDir), { recursive: true, mode: 0o700 });
    const fresh = await mkdtemp(join(dirname(destDir), `.${basename(destDir)}.unpack-`));
    try {
      const result = await unpackInto(first, chunks, fresh, destDir, opts, src);
      await swapInto(fresh, destDir);
      return result;
    } catch (err) {
      await rm(fresh, { recursive: true, force: true });
      if (err instanceof YardError) throw err;
      if (noSpace(err))
        throw new YardError(
          'RESOURCE_EXHAUSTED',
          `no space left on device in ${dirname(destDir)} while unpacking ${src.what}: the partial copy was removed and ${destDir} was left as it was; free disk space there, or move the workload to a host with room for its state`,
          src.details,
        );
      throw new YardError(
        'BAD_ARCHIVE',
        `could not unpack ${src.what} into ${destDir}: ${errorMessage(err)}; ${destDir} was left as it was; take the checkpoint again`,
        src.details,
      );
    }
  } finally {
    await chunks.return?.(); // stops and destroys the input when it was not read to its end
  }
}

/** The disk (or the owner's quota) is full: taking the checkpoint again would not help. */
function noSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** At least the first tar block (or all there is, when that is less). */
async function firstBlock(chunks: AsyncIterator<Buffer>): Promise<Buffer> {
  const got: Buffer[] = [];
  let length = 0;
  while (length < TAR_BLOCK) {
    const next = await chunks.next();
    if (next.done) break;
    got.push(next.value);
    length += next.value.length;
  }
  return got.length === 1 ? got[0]! : Buffer.concat(got);
}

/** Compressed or unknown input never reaches node-tar, which would decompress it on its own. */
function refuseForeignFormat(first: Buffer, destDir: string, src: Source): void {
  const foreign = notOurTar(first.subarray(0, TAR_BLOCK));
  if (!foreign) return;
  throw new YardError(
    'BAD_ARCHIVE',
    `${src.what} ${foreign.why}: an agent accepts only the plain tar archives Switchyard agents write, so nothing was read from it; ${destDir} was left as it was; take the checkpoint again from a Switchyard agent`,
    { ...src.details, format: foreign.format },
  );
}

type Step = { entry: Accepted; mode: number; mtime?: Date } | Buffer | 'end';

async function unpackInto(
  first: Buffer,
  rest: AsyncIterator<Buffer>,
  fresh: string,
  destDir: string,
  opts: UnpackOptions,
  src: Source,
): Promise<UnpackResult> {
  const check = new EntryCheck(opts.maxBytes, opts.maxEntries);
  const hash = createHash('sha256');
  const writer = new TreeWriter(fresh);
  let refused: EntryViolation | undefined;
  let broken: unknown;
  // What the parser found in the chunk just fed, written out before the next chunk is read.
  let steps: Step[] = [];
  const parser = new Parser({
    strict: true,
    zstd: false,
    onReadEntry: (e: ReadEntry) => {
      if (refused || broken) return void e.resume();
      try {
        steps.push({ entry: check.add(facts(e)), mode: e.mode ?? 0o600, mtime: e.mtime });
      } catch (err) {
        if (!(err instanceof EntryViolation)) throw err;
        refused = err;
        return void e.resume();
      }
      e.on('data', (d: Buffer) => steps.push(d));
      e.on('end', () => steps.push('end'));
    },
  });
  parser.on('error', (err: unknown) => (broken ??= err));
  const parsed = new Promise<void>((resolve) => {
    parser.on('end', resolve);
    parser.on('error', () => resolve());
  });
  // Entries are written in order, in batches of about WRITE_BATCH_BYTES (a few system calls
  // each, not one per input chunk), while the next chunks are read and parsed: the disk and
  // the input work at once, with at most WRITE_AHEAD_BYTES between them.
  let writing: Promise<void> = Promise.resolve();
  let inFlight = 0;
  let batch = 0;
  let counted = 0;
  const writeSteps = async (last = false) => {
    if (refused || broken || steps.length === 0) return;
    for (; counted < steps.length; counted++) {
      const step = steps[counted];
      batch += Buffer.isBuffer(step) ? step.length : STEP_BYTES;
    }
    if (!last && batch < WRITE_BATCH_BYTES) return;
    const now = steps;
    const bytes = batch;
    steps = [];
    counted = 0;
    batch = 0;
    inFlight += bytes;
    writing = writing.then(async () => {
      await writer.apply(now);
      inFlight -= bytes;
    });
    writing.catch(() => {}); // seen by the next await of `writing`
    if (inFlight > WRITE_AHEAD_BYTES) await writing;
  };
  try {
    for (let chunk: Buffer | undefined = first; chunk; chunk = await nextChunk(rest)) {
      hash.update(chunk);
      // Without a checksum to verify there is no reason to read past the first refusal.
      if (refused || broken) {
        if (opts.sha256 === undefined) break;
        continue;
      }
      parser.write(chunk);
      await writeSteps();
    }
    if (!refused && !broken) {
      parser.end();
      await parsed;
      await writeSteps(true);
    }
    await writing;
  } finally {
    await writing.catch(() => {});
    await writer.close();
  }
  if (opts.sha256 !== undefined) {
    const expected = (await opts.sha256).toLowerCase();
    const actual = hash.digest('hex');
    if (actual !== expected) {
      throw new YardError(
        'CHECKSUM_MISMATCH',
        `${src.what} has sha256 ${actual} but ${expected} was expected; it was damaged in transfer; ${destDir} was left as it was; transfer it again`,
        { ...src.details, expected, actual },
      );
    }
  }
  if (refused) throw hostile(src, destDir, refused);
  if (broken)
    throw new YardError(
      'BAD_ARCHIVE',
      `${src.what} is not a readable tar archive (${errorMessage(broken)}); ${destDir} was left as it was; take the checkpoint again`,
      src.details,
    );
  try {
    return check.finish();
  } catch (err) {
    if (err instanceof EntryViolation) throw hostile(src, destDir, err);
    throw err;
  }
}

async function nextChunk(chunks: AsyncIterator<Buffer>): Promise<Buffer | undefined> {
  const next = await chunks.next();
  return next.done ? undefined : next.value;
}

function facts(e: ReadEntry) {
  return { path: e.path, type: e.type, size: e.size, mode: e.mode, linkpath: e.linkpath };
}

function hostile(src: Source, destDir: string, v: EntryViolation): YardError {
  return new YardError(
    'HOSTILE_ARCHIVE',
    `refused ${src.what}: ${v.message}; nothing was unpacked and ${destDir} was left as it was; check where this archive came from`,
    { ...src.details, entry: v.entry, reason: v.reason },
  );
}

/**
 * Writes checked entries into `root`, one at a time, owner-only. Nothing is ever written
 * through a link: EntryCheck refused every path through a symlink, and O_NOFOLLOW|O_EXCL make
 * sure a file lands on a fresh name, never on something already there.
 */
class TreeWriter {
  private file?: { fh: FileHandle; mtime?: Date };
  private lastParent = '';

  constructor(private readonly root: string) {}

  async apply(steps: Step[]): Promise<void> {
    for (let i = 0; i < steps.length; ) {
      const step = steps[i]!;
      if (Buffer.isBuffer(step)) {
        // A file's consecutive pieces go to disk in one system call.
        let j = i + 1;
        while (j < steps.length && Buffer.isBuffer(steps[j])) j++;
        await this.write(steps.slice(i, j) as Buffer[]);
        i = j;
        continue;
      }
      if (step === 'end') await this.endFile();
      else await this.begin(step.entry, step.mode, step.mtime);
      i++;
    }
  }

  async close(): Promise<void> {
    await this.file?.fh.close();
    this.file = undefined;
  }

  private async begin(entry: Accepted, mode: number, mtime?: Date): Promise<void> {
    const path = join(this.root, entry.rel);
    if (entry.kind === 'dir') {
      if (entry.rel) await mkdir(path, { recursive: true, mode: 0o700 });
      return;
    }
    await this.parentOf(path);
    if (entry.kind === 'symlink') return symlink(entry.target, path);
    if (entry.kind === 'hardlink') return link(join(this.root, entry.targetRel), path);
    // Owner-only, keeping only whether the owner may run it.
    const fh = await open(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600 | (mode & 0o100),
    );
    this.file = { fh, mtime };
  }

  private async write(data: Buffer[]): Promise<void> {
    const fh = this.file?.fh;
    if (!fh) return;
    let left = data;
    while (left.length > 0) {
      let written = (await fh.writev(left)).bytesWritten;
      while (left.length > 0 && written >= left[0]!.length) {
        written -= left[0]!.length;
        left = left.slice(1);
      }
      if (written > 0) left = [left[0]!.subarray(written), ...left.slice(1)];
    }
  }

  private async endFile(): Promise<void> {
    const f = this.file;
    if (!f) return;
    this.file = undefined;
    try {
      if (f.mtime) await f.fh.utimes(f.mtime, f.mtime);
    } finally {
      await f.fh.close();
    }
  }

  private async parentOf(path: string): Promise<void> {
    const parent = dirname(path);
    if (parent === this.lastParent) return;
    await mkdir(parent, { recursive: true, mode: 0o700 });
    this.lastParent = parent;
  }
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
