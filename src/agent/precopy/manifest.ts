// Pre-copy (issue 13), the source's side: a workload's state dir described as content-addressed
// chunks. Each regular file is cut into CHUNK_BYTES pieces and each piece named by its sha256;
// the target compares those names with what it already staged and asks only for the chunks
// that differ, as QEMU and CRIU pre-copy memory pages. Rounds run while the workload still
// writes, so a scan may see a file mid-write: that is harmless, since the target names what it
// received by the hash of what it received, and the last round (after the workload saved and
// exited) is checked chunk by chunk against a manifest of the quiet dir.
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { errorMessage, YardError } from '../../core/errors.js';
import { checkStateDir, tooLarge } from '../checkpoint/archive.js';
import { EntryCheck, EntryViolation } from '../checkpoint/entry-check.js';

/** Big enough that a manifest of 10 GB is 2,560 names; small enough that a changed record moves little. */
export const CHUNK_BYTES = 4 * 1024 * 1024;

export interface ManifestEntry {
  /** Relative to the state dir, '/'-separated, never '..' (EntryCheck's rules). */
  path: string;
  type: 'File' | 'Directory' | 'SymbolicLink';
  /** Permission bits (no set-id bits: EntryCheck refuses them). */
  mode: number;
  size: number;
  /** Files: the sha256 (hex) of each CHUNK_BYTES piece, in order. */
  chunks?: string[];
  /** Symlinks: where it points (relative, inside the dir). */
  linkpath?: string;
}

export interface Manifest {
  v: 1;
  chunkBytes: number;
  /** Parents before children, names sorted: the same dir always gives the same manifest. */
  entries: ManifestEntry[];
  /** The files' bytes in all. */
  bytes: number;
}

/** The manifest's own name: equal digests, equal dirs (paths, kinds, modes, links and every chunk). */
export function manifestDigest(m: Manifest): string {
  return createHash('sha256').update(JSON.stringify(m)).digest('hex');
}

/** The chunks a file of `size` bytes has. */
export function chunkCount(size: number, chunkBytes = CHUNK_BYTES): number {
  return Math.ceil(size / chunkBytes);
}

type StatKey = Pick<BigIntStats, 'ino' | 'size' | 'mtimeNs' | 'ctimeNs'>;

/** A file's chunks as last hashed, valid while its inode, size, mtime and ctime stay the same. */
interface Hashed extends StatKey {
  chunks: string[];
}

/**
 * A write in the same clock tick as the one before it leaves mtime unchanged, so a file that was
 * written this recently when it was hashed is hashed again next time (git's "racy clean" rule).
 */
const SETTLED_NS = 2_000_000_000n;

/**
 * Scans one workload's state dir for the rounds of one move. It remembers the chunks of files
 * that have not changed since, so a round after the first hashes only what was written in
 * between: the last round, inside the downtime, costs the changed bytes, not the whole dir.
 */
export class StateScanner {
  private readonly hashed = new Map<string, Hashed>();
  private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  /** The files of the last scan: the only paths read() serves. */
  private files = new Set<string>();

  constructor(
    readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  /** Bytes hashed by the scans so far (for the log: what the cache saved). */
  hashedBytes = 0;

  /** The files' bytes, without hashing (what the controller weighs pre-copy by). */
  size(): Promise<number> {
    return checkStateDir(this.dir, this.maxBytes);
  }

  /** The dir as it is now; CHECKPOINT_UNPORTABLE / CHECKPOINT_TOO_LARGE as a checkpoint would be. */
  async scan(): Promise<Manifest> {
    // The same checks (and errors) as a checkpoint archive: a dir the target would refuse fails here.
    const bytes = await checkStateDir(this.dir, this.maxBytes);
    if (bytes > this.maxBytes) throw tooLarge(this.dir, `its files hold ${bytes} bytes`, this.maxBytes);
    const entries: ManifestEntry[] = [];
    const seen = new Set<string>();
    const check = new EntryCheck(Number.MAX_SAFE_INTEGER);
    let total = 0;
    const visit = async (rel: string): Promise<void> => {
      for (const name of (await readdir(join(this.dir, rel))).sort()) {
        const path = rel ? `${rel}/${name}` : name;
        const full = join(this.dir, path);
        const st = await lstat(full, { bigint: true });
        const mode = Number(st.mode & 0o777n);
        if (st.isDirectory()) {
          check.add({ path, type: 'Directory', size: 0, mode });
          entries.push({ path, type: 'Directory', mode, size: 0 });
          await visit(path);
        } else if (st.isSymbolicLink()) {
          const linkpath = await readlink(full);
          check.add({ path, type: 'SymbolicLink', size: 0, mode, linkpath });
          entries.push({ path, type: 'SymbolicLink', mode, size: 0, linkpath });
        } else if (st.isFile()) {
          const { size, chunks } = await this.chunksOf(path, full, st);
          check.add({ path, type: 'File', size, mode });
          entries.push({ path, type: 'File', mode, size, chunks });
          seen.add(path);
          total += size;
          if (total > this.maxBytes) throw tooLarge(this.dir, `its files hold over ${total} bytes`, this.maxBytes);
        }
        // Sockets, FIFOs and devices stay behind, as in an archive.
      }
    };
    try {
      await visit('');
      check.finish();
    } catch (err) {
      if (err instanceof YardError) throw err;
      if (err instanceof EntryViolation)
        throw new YardError('CHECKPOINT_UNPORTABLE', `state dir ${this.dir} cannot be pre-copied: ${err.message}`, {
          dir: this.dir,
          entry: err.entry,
        });
      throw new YardError('CHECKPOINT_FAILED', `could not read state dir ${this.dir}: ${errorMessage(err)}`, {
        dir: this.dir,
      });
    }
    for (const path of this.hashed.keys()) if (!seen.has(path)) this.hashed.delete(path);
    this.files = seen;
    return { v: 1, chunkBytes: CHUNK_BYTES, entries, bytes: total };
  }

  private async chunksOf(path: string, full: string, before: BigIntStats): Promise<{ size: number; chunks: string[] }> {
    const known = this.hashed.get(path);
    if (known && sameStat(known, before)) return { size: Number(before.size), chunks: known.chunks };
    const wallNs = BigInt(Date.now()) * 1_000_000n;
    const chunks: string[] = [];
    let size = 0;
    const fd = await open(full, 'r');
    try {
      for (;;) {
        const n = await readFull(fd, this.buffer);
        if (n === 0) break;
        chunks.push(createHash('sha256').update(this.buffer.subarray(0, n)).digest('hex'));
        size += n;
        if (n < CHUNK_BYTES) break;
      }
      const after = await fd.stat({ bigint: true });
      this.hashedBytes += size;
      // Remembered only when nothing moved under the hash and the file had been quiet a while.
      const quiet = wallNs - after.mtimeNs > SETTLED_NS;
      if (sameStat(before, after) && Number(after.size) === size && quiet) {
        this.hashed.set(path, {
          ino: after.ino,
          size: after.size,
          mtimeNs: after.mtimeNs,
          ctimeNs: after.ctimeNs,
          chunks,
        });
      } else this.hashed.delete(path);
      return { size, chunks };
    } finally {
      await fd.close();
    }
  }

  /**
   * The chunks asked for, each framed as a 4-byte length and its bytes, read from the files as
   * they are now. A file that shrank gives a short (or empty) chunk: the target names what it
   * got by its hash, so a round that raced a write only leaves that chunk to the next round.
   */
  read(wanted: Array<[path: string, index: number]>): Readable {
    for (const [path, index] of wanted)
      if (!this.files.has(path) || !Number.isSafeInteger(index) || index < 0)
        throw new YardError('INVALID_ARGUMENT', `no chunk ${index} of "${path}" in the state dir's last manifest`);
    const dir = this.dir;
    const maxBytes = this.maxBytes;
    async function* frames(): AsyncGenerator<Buffer> {
      let sent = 0;
      for (const [path, index] of wanted) {
        const buf = Buffer.allocUnsafe(4 + CHUNK_BYTES);
        let n = 0;
        const fd = await open(join(dir, path), 'r').catch(() => undefined);
        if (fd) {
          try {
            n = await readFull(fd, buf.subarray(4), index * CHUNK_BYTES);
          } finally {
            await fd.close();
          }
        }
        sent += n;
        if (sent > maxBytes) throw tooLarge(dir, `its chunks hold over ${sent} bytes`, maxBytes);
        buf.writeUInt32BE(n, 0);
        yield buf.subarray(0, 4 + n);
      }
    }
    return Readable.from(frames(), { objectMode: false, highWaterMark: 2 });
  }
}

/** Reads until `into` is full or the file ends; from `position` when given, else from where the handle is. */
async function readFull(
  fd: Awaited<ReturnType<typeof open>>,
  into: Buffer,
  position: number | null = null,
): Promise<number> {
  let n = 0;
  while (n < into.length) {
    const { bytesRead } = await fd.read(into, n, into.length - n, position === null ? null : position + n);
    if (bytesRead === 0) break;
    n += bytesRead;
  }
  return n;
}

/** The same file, unwritten since: inode, size, mtime and ctime all equal. */
function sameStat(a: StatKey, b: StatKey): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}
