// A state dir packed straight onto a connection: the same checks and tar as packStateDir, but
// the bytes go to a Readable as they are packed, hashed on the way, with no archive file unless
// the caller asks to keep one (for a resume or a rollback). The packer runs only as fast as its
// reader: it waits for the reader's demand before packing more, so memory holds a few read
// buffers, never the archive. A kept file is written before each chunk is handed on, so a
// receiver that got K bytes can always be served from K out of the file (readKept).
import { createHash } from 'node:crypto';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errorMessage, YardError } from '../../core/errors.js';
import { checkStateDir, type PackResult, tarOf, tooLarge } from './archive.js';

/** node-tar reads each file in pieces of at most this; one piece is in memory per entry read. */
const READ_BYTES = 1024 * 1024;
const KEPT_READ_BYTES = 256 * 1024;

export interface PackingStream {
  /** The archive's bytes; fails with CHECKPOINT_TOO_LARGE or CHECKPOINT_FAILED. */
  readonly stream: Readable;
  /** The archive's sha256 and size, once the last byte is packed (and, with keep, written). */
  readonly result: Promise<PackResult>;
  /** Bytes packed so far (with keep: on disk so far). */
  readonly packed: number;
  /**
   * The archive from `offset`, read from the kept file, waiting for the packer while it is
   * behind: what a reconnecting receiver that already got `offset` bytes needs. Only with keep.
   */
  from(offset: number): Readable;
}

/**
 * Checks `dir` as packStateDir does, then packs it into `stream`. With `keep`, every byte is
 * also written (owner-only) to that file first, and packing goes on into the file when the
 * reader goes away, so `from()` can serve the rest; without it, a reader that goes away stops
 * the packing and `result` fails. On failure the kept file is removed.
 */
export async function packToStream(dir: string, opts: { maxBytes: number; keep?: string }): Promise<PackingStream> {
  const contentBytes = await checkStateDir(dir, opts.maxBytes);
  if (contentBytes > opts.maxBytes) throw tooLarge(dir, `its files hold ${contentBytes} bytes`, opts.maxBytes);
  let file: FileHandle | undefined;
  if (opts.keep) {
    await rm(opts.keep, { force: true }); // a leftover would keep its old mode
    file = await open(opts.keep, 'wx', 0o600);
  }
  return new Packing(dir, opts.maxBytes, file, opts.keep);
}

class Packing implements PackingStream {
  readonly stream: Readable;
  readonly result: Promise<PackResult>;
  packed = 0;
  private finished = false;
  /** Woken when the reader wants more, or leaves. */
  private demand?: () => void;
  private wanted = false;
  /** Woken when the kept file grows or packing ends (readers following it). */
  private readonly followers = new Set<() => void>();
  private failure?: unknown;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly file: FileHandle | undefined,
    private readonly keep: string | undefined,
  ) {
    this.stream = new Readable({
      highWaterMark: READ_BYTES,
      read: () => this.wake(),
      destroy: (err, done) => {
        this.wake();
        done(err);
      },
    });
    this.result = this.run();
    // The caller may only watch `stream`; a failure is reported there too.
    this.result.catch(() => {});
  }

  from(offset: number): Readable {
    if (!this.keep) throw new Error('from() needs a kept file: pass keep to packToStream');
    return followKept(this.keep, offset, {
      available: () => this.packed,
      done: () => this.finished,
      failure: () => this.failure,
      wait: (wake) => {
        this.followers.add(wake);
        return () => this.followers.delete(wake);
      },
    });
  }

  private wake(): void {
    const demand = this.demand;
    this.demand = undefined;
    if (demand) demand();
    else this.wanted = true;
  }

  private notifyFollowers(): void {
    for (const wake of [...this.followers]) wake();
  }

  private async run(): Promise<PackResult> {
    const hash = createHash('sha256');
    const sink = new Writable({
      highWaterMark: READ_BYTES,
      write: (chunk: Buffer, _enc, done) => {
        this.take(chunk, hash).then(() => done(), done);
      },
    });
    try {
      await pipeline(tarOf(this.dir, READ_BYTES), sink);
      await this.file?.close();
      const result = { sha256: hash.digest('hex'), size: this.packed };
      this.finished = true;
      this.notifyFollowers();
      if (!this.stream.destroyed) this.stream.push(null);
      return result;
    } catch (err) {
      const failure = err instanceof YardError ? err : this.failed(err);
      this.failure = failure;
      this.notifyFollowers();
      await this.file?.close().catch(() => {});
      if (this.keep) await rm(this.keep, { force: true });
      this.stream.destroy(failure);
      throw failure;
    }
  }

  private async take(chunk: Buffer, hash: ReturnType<typeof createHash>): Promise<void> {
    if (this.packed + chunk.length > this.maxBytes) throw tooLarge(this.dir, 'its archive', this.maxBytes);
    hash.update(chunk);
    if (this.file) {
      for (let off = 0; off < chunk.length; ) off += (await this.file.write(chunk, off)).bytesWritten;
    }
    this.packed += chunk.length;
    this.notifyFollowers();
    if (this.stream.destroyed) {
      if (this.file) return; // the reader is gone: pack on into the kept file for from()
      throw new Error('the reader of the checkpoint stream went away');
    }
    if (this.stream.push(chunk)) return;
    if (this.wanted) {
      this.wanted = false;
      return;
    }
    await new Promise<void>((resolve) => {
      this.demand = resolve;
    });
    this.wanted = false;
  }

  private failed(err: unknown): YardError {
    return new YardError(
      'CHECKPOINT_FAILED',
      `could not pack state dir ${this.dir} onto a stream: ${errorMessage(err)}; check the disk and the connection, and try the checkpoint again`,
      { dir: this.dir },
    );
  }
}

interface Growth {
  available(): number;
  done(): boolean;
  failure(): unknown;
  /** Calls `wake` once the file grows or packing ends; returns an unsubscribe. */
  wait(wake: () => void): () => void;
}

/**
 * A kept archive from `offset` to its end: what a source serves to a receiver that reconnects
 * after getting `offset` bytes, or to a rollback. The file must be complete (packToStream
 * resolved its result); while it is still being packed use PackingStream.from.
 */
export function readKept(file: string, offset: number): Readable {
  return followKept(file, offset);
}

function followKept(file: string, offset: number, growth?: Growth): Readable {
  let fh: FileHandle | undefined;
  let pos = offset;
  let size = Number.POSITIVE_INFINITY;
  let unsubscribe: (() => void) | undefined;
  const read = async (stream: Readable): Promise<void> => {
    if (!fh) {
      const opened = await open(file, 'r');
      if (stream.destroyed) return void (await opened.close());
      fh = opened;
    }
    if (!growth && size === Number.POSITIVE_INFINITY) size = (await fh.stat()).size;
    if (!Number.isSafeInteger(offset) || offset < 0) throw new Error(`offset ${offset} is not a byte offset`);
    for (;;) {
      if (growth?.failure()) throw growth.failure();
      const end = growth ? growth.available() : size;
      if (pos > end && (!growth || growth.done()))
        throw new Error(`offset ${offset} is past the end of ${file} (${end} bytes)`);
      if (pos < end) break;
      if (!growth || growth.done()) return void stream.push(null);
      await new Promise<void>((resolve) => {
        unsubscribe = growth.wait(resolve);
      });
      unsubscribe?.();
      unsubscribe = undefined;
    }
    const want = Math.min(KEPT_READ_BYTES, (growth ? growth.available() : size) - pos);
    const buf = Buffer.allocUnsafe(want);
    const { bytesRead } = await fh.read(buf, 0, want, pos);
    if (bytesRead === 0) throw new Error(`${file} ended at ${pos} bytes, before the archive did`);
    pos += bytesRead;
    stream.push(bytesRead === want ? buf : buf.subarray(0, bytesRead));
  };
  return new Readable({
    highWaterMark: KEPT_READ_BYTES,
    read() {
      read(this).catch((err: unknown) => this.destroy(err as Error));
    },
    destroy(err, done) {
      unsubscribe?.();
      const closing = fh?.close();
      fh = undefined;
      if (closing) closing.then(() => done(err), done);
      else done(err);
    },
  });
}
