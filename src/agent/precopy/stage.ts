// Pre-copy (issue 13), the target's side: a staging dir that follows the source's state dir
// round by round. The source's manifest arrives first and is checked as strictly as an archive
// (entry-check.ts: relative paths, no way out through a link, no set-id bits, size caps); then
// only the chunks whose names differ from what is staged are asked for, each hashed as it
// arrives and named by that hash. The last round, after the workload saved and exited, must
// leave every chunk equal to the manifest, or the move fails and the staging dir goes.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, mkdir, open, rm, symlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { errorMessage, YardError } from '../../core/errors.js';
import { EntryCheck, EntryViolation, MAX_ENTRIES } from '../checkpoint/entry-check.js';
import { CHUNK_BYTES, chunkCount, type Manifest, type ManifestEntry, manifestDigest } from './manifest.js';

/** What the staging dir holds of one path: its kind and, for a file, its size and the names of its chunks. */
interface Staged {
  type: ManifestEntry['type'];
  size: number;
  /** '' where the chunk is unknown (a short read, or not yet received). */
  chunks: string[];
}

/** One connection to the source for one round: its manifest, then the chunks asked for. */
export interface StateSource {
  manifest: Manifest;
  chunks(wanted: Array<[path: string, index: number]>): Readable;
}

const HEX64 = /^[0-9a-f]{64}$/;
const NOFOLLOW_RW = constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW;

export class StagedState {
  private readonly staged = new Map<string, Staged>();
  /** Bytes the current round has received (the migration's progress). */
  moved = 0;

  constructor(
    readonly dir: string,
    private readonly o: { maxBytes: number; sender: string },
  ) {}

  /** Checks a manifest from the source before anything of it touches the disk. */
  check(m: Manifest): Manifest {
    const bad = (why: string) =>
      new YardError('BAD_ARCHIVE', `the state manifest from ${this.o.sender} is malformed: ${why}`, {
        sender: this.o.sender,
      });
    if (m?.v !== 1 || m.chunkBytes !== CHUNK_BYTES || !Array.isArray(m.entries)) throw bad('unknown version');
    if (m.entries.length > MAX_ENTRIES) throw bad(`more than ${MAX_ENTRIES} entries`);
    const entries = new EntryCheck(Number.MAX_SAFE_INTEGER);
    let bytes = 0;
    try {
      for (const e of m.entries) {
        if (typeof e?.path !== 'string' || !['File', 'Directory', 'SymbolicLink'].includes(e.type))
          throw bad('an entry without a path or kind');
        if (!Number.isInteger(e.mode) || e.mode < 0 || e.mode > 0o7777)
          throw bad(`entry "${e.path}" has mode ${e.mode}`);
        if (!Number.isSafeInteger(e.size) || e.size < 0) throw bad(`entry "${e.path}" has size ${e.size}`);
        if (e.type === 'File') {
          if (
            !Array.isArray(e.chunks) ||
            e.chunks.length !== chunkCount(e.size) ||
            !e.chunks.every((c) => HEX64.test(c))
          )
            throw bad(`file "${e.path}" does not name each of its chunks`);
          bytes += e.size;
        }
        if (e.type === 'SymbolicLink' && typeof e.linkpath !== 'string') throw bad(`link "${e.path}" has no target`);
        entries.add({ path: e.path, type: e.type, size: e.size, mode: e.mode, linkpath: e.linkpath });
      }
      entries.finish();
    } catch (err) {
      if (!(err instanceof EntryViolation)) throw err;
      throw new YardError('HOSTILE_ARCHIVE', `the state manifest from ${this.o.sender} was refused: ${err.message}`, {
        sender: this.o.sender,
        entry: err.entry,
      });
    }
    if (bytes !== m.bytes) throw bad(`its files hold ${bytes} bytes, not the ${m.bytes} it says`);
    if (bytes > this.o.maxBytes)
      throw new YardError(
        'CHECKPOINT_TOO_LARGE',
        `the state from ${this.o.sender} holds ${bytes} bytes, over the limit of ${this.o.maxBytes}`,
        { sender: this.o.sender },
      );
    return m;
  }

  /** The chunks that differ between the staging dir and `m`, in manifest order. */
  wanted(m: Manifest): Array<[string, number]> {
    const want: Array<[string, number]> = [];
    for (const e of m.entries) {
      if (e.type !== 'File') continue;
      const have = this.staged.get(e.path);
      const same = have?.type === 'File' ? have.chunks : [];
      e.chunks?.forEach((c, i) => {
        if (same[i] !== c) want.push([e.path, i]);
      });
    }
    return want;
  }

  /**
   * One round over one connection: shapes the staging dir like `m` (what the source no longer
   * has goes, files take their new sizes), then writes the chunks asked for as they arrive.
   * `strict` (the last round): every chunk must be the one the manifest names.
   */
  async apply(src: StateSource, wanted: Array<[string, number]>, strict: boolean): Promise<void> {
    const m = src.manifest;
    await this.shape(m);
    const sizes = new Map(m.entries.filter((e) => e.type === 'File').map((e) => [e.path, e]));
    const body = src.chunks(wanted);
    let file: { path: string; fd: FileHandle } | undefined;
    try {
      let k = 0;
      for await (const frame of frames(body, m.chunkBytes, this.o.sender)) {
        const want = wanted[k++];
        const entry = want && sizes.get(want[0]);
        if (!want || !entry)
          throw new YardError('BAD_ARCHIVE', `${this.o.sender} sent more chunks than were asked for`);
        const [path, index] = want;
        const expected = Math.min(m.chunkBytes, entry.size - index * m.chunkBytes);
        const name = createHash('sha256').update(frame).digest('hex');
        if (strict && (frame.length !== expected || name !== entry.chunks?.[index]))
          throw new YardError(
            'CHECKSUM_MISMATCH',
            `chunk ${index} of "${path}" from ${this.o.sender} does not match its manifest: the state changed or was damaged on the way`,
            { sender: this.o.sender, entry: path },
          );
        if (file?.path !== path) {
          await file?.fd.close();
          file = undefined;
        }
        file ??= { path, fd: await open(join(this.dir, path), NOFOLLOW_RW, 0o600) };
        await writeAll(file.fd, frame, index * m.chunkBytes);
        const staged = this.staged.get(path);
        if (staged) staged.chunks[index] = frame.length === expected ? name : '';
        this.moved += frame.length;
      }
      if (k !== wanted.length) throw new Error(`the connection ended after ${k} of ${wanted.length} chunks`);
    } finally {
      await file?.fd.close();
      body.destroy();
    }
  }

  /**
   * The last round's end: every file equal to the manifest, then the links and the modes it
   * names (applied last: a read-only dir could not have been filled). The manifest's digest.
   */
  async seal(m: Manifest): Promise<string> {
    for (const e of m.entries) {
      const have = this.staged.get(e.path);
      if (e.type === 'File' && (have?.size !== e.size || e.chunks?.some((c, i) => have.chunks[i] !== c)))
        throw new YardError(
          'CHECKSUM_MISMATCH',
          `"${e.path}" from ${this.o.sender} is not complete after the last round`,
          {
            sender: this.o.sender,
          },
        );
    }
    for (const e of m.entries) {
      if (e.type !== 'SymbolicLink' || this.staged.has(e.path)) continue;
      await symlink(String(e.linkpath), join(this.dir, e.path));
      this.staged.set(e.path, { type: e.type, size: 0, chunks: [] });
    }
    for (const e of [...m.entries].reverse()) {
      if (e.type !== 'SymbolicLink') await chmod(join(this.dir, e.path), e.mode & 0o777);
    }
    await chmod(this.dir, 0o700);
    return manifestDigest(m);
  }

  /** Removes the staging dir (the move rolled back, or it was installed elsewhere). */
  async discard(): Promise<void> {
    this.staged.clear();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async shape(m: Manifest): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const wanted = new Map(m.entries.map((e) => [e.path, e]));
    // What the source no longer has, or has as another kind, goes first (with what is under it).
    for (const [path, have] of [...this.staged]) {
      if (!this.staged.has(path)) continue;
      const e = wanted.get(path);
      if (e?.type === have.type) continue;
      await rm(join(this.dir, path), { recursive: true, force: true });
      for (const p of [...this.staged.keys()]) if (p === path || p.startsWith(`${path}/`)) this.staged.delete(p);
    }
    try {
      for (const e of m.entries) {
        const full = join(this.dir, e.path);
        const have = this.staged.get(e.path);
        if (e.type === 'Directory' && !have) {
          await mkdir(full, { mode: 0o700 });
          this.staged.set(e.path, { type: e.type, size: 0, chunks: [] });
        } else if (e.type === 'File' && have?.size !== e.size) {
          const fd = await open(full, NOFOLLOW_RW, 0o600);
          try {
            await fd.truncate(e.size);
          } finally {
            await fd.close();
          }
          const chunks = (have?.chunks ?? []).slice(0, chunkCount(e.size));
          // The last chunk changed length, so its old name is no longer what is on disk.
          if (have && have.size % m.chunkBytes !== 0) chunks[Math.floor(have.size / m.chunkBytes)] = '';
          this.staged.set(e.path, { type: e.type, size: e.size, chunks });
        }
      }
    } catch (err) {
      if (err instanceof YardError) throw err;
      throw new YardError('INSTALL_FAILED', `could not stage the state from ${this.o.sender}: ${errorMessage(err)}`, {
        sender: this.o.sender,
      });
    }
  }
}

async function writeAll(fd: FileHandle, buf: Buffer, position: number): Promise<void> {
  let n = 0;
  while (n < buf.length) n += (await fd.write(buf, n, buf.length - n, position + n)).bytesWritten;
}

/** The chunks of a body framed as a 4-byte length and its bytes (manifest.ts read()). */
async function* frames(body: Readable, chunkBytes: number, sender: string): AsyncGenerator<Buffer> {
  // Pieces are gathered and joined once per chunk: joining at each piece would copy a 4 MiB
  // chunk dozens of times.
  let pieces: Buffer[] = [];
  let held = 0;
  let need = -1;
  const take = (n: number): Buffer => {
    const all = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, held);
    pieces = all.length > n ? [all.subarray(n)] : [];
    held = all.length - n;
    return all.subarray(0, n);
  };
  for await (const piece of body) {
    pieces.push(piece as Buffer);
    held += (piece as Buffer).length;
    for (;;) {
      if (need < 0) {
        if (held < 4) break;
        need = take(4).readUInt32BE(0);
        if (need > chunkBytes) throw new YardError('BAD_ARCHIVE', `${sender} sent a chunk of ${need} bytes`);
      }
      if (held < need) break;
      yield take(need);
      need = -1;
    }
  }
  if (need >= 0 || held > 0) throw new Error(`the chunk stream from ${sender} ended in the middle of a chunk`);
}
