// The receiving end of a checkpoint that may arrive over several connections: one unpack
// (unpackFromStream) reads one PassThrough, and each connection's bytes are written into it in
// turn. When a connection drops after K bytes in all, the receiver asks the source for the
// archive from K (PackingStream.from or readKept there) and attaches the new connection; the
// unpack never sees the seam. The sender's size and sha256 come last (complete), as only the
// sender knows them once it has packed the last byte.
import { PassThrough, type Readable } from 'node:stream';
import { YardError } from '../../core/errors.js';
import type { PackResult } from './archive.js';
import { type UnpackOptions, type UnpackResult, unpackFromStream } from './unpack.js';

/** Held per receiver while the network is slower than the disk. */
const BUFFER_BYTES = 1024 * 1024;

export class ResumableReceiver {
  /** Settles once the archive is unpacked and swapped in, or refused with destDir untouched. */
  readonly done: Promise<UnpackResult>;
  private readonly pipe = new PassThrough({ highWaterMark: BUFFER_BYTES });
  private bytes = 0;
  private expected?: PackResult;
  private settleChecksum!: (sha256: string) => void;
  private attached = false;
  /** Why the last connection dropped, when it did not just end (a reset, TLS refusing a damaged record). */
  private dropped?: Error;

  constructor(
    private readonly destDir: string,
    opts: Omit<UnpackOptions, 'sha256'> & { sender?: string },
  ) {
    const sha256 = new Promise<string>((resolve) => {
      this.settleChecksum = resolve;
    });
    this.done = unpackFromStream(this.pipe, destDir, { ...opts, sha256 });
    this.done.catch(() => {}); // also reported by attach(); the caller may await either
  }

  /** Bytes taken in so far: after a drop, ask the source for the archive from here. */
  get received(): number {
    return this.bytes;
  }

  /**
   * Feeds one connection's bytes in, at the unpack's pace. Resolves with `received` when the
   * connection ends or drops (a drop is expected: attach the next one); rejects only when the
   * unpack has failed, with its error.
   */
  async attach(conn: Readable): Promise<number> {
    if (this.attached) throw new Error('a connection is already attached to this receiver');
    this.attached = true;
    this.dropped = undefined;
    try {
      for await (const chunk of conn as AsyncIterable<Buffer>) {
        if (this.pipe.destroyed) break;
        const room = this.expected ? this.expected.size - this.bytes : chunk.length;
        if (chunk.length > room) {
          this.abort(this.overrun(this.bytes + chunk.length));
          break;
        }
        this.bytes += chunk.length;
        if (!this.pipe.write(chunk)) await drained(this.pipe);
      }
    } catch (err) {
      // The connection dropped: what arrived is in, the rest comes over the next connection.
      this.dropped = err instanceof Error ? err : new Error(String(err));
    } finally {
      this.attached = false;
    }
    if (this.pipe.destroyed) await this.done;
    this.endIfWhole();
    return this.bytes;
  }

  /** Why the last attached connection dropped, if it broke rather than ended. */
  get dropReason(): Error | undefined {
    return this.dropped;
  }

  /**
   * The sender's last word: the archive's size and sha256. The unpack finishes once `size`
   * bytes are in, and checks the sha256 then; more bytes than `size` is a failure.
   */
  complete(expected: PackResult): void {
    if (this.expected) throw new Error('complete() was already called');
    this.expected = expected;
    this.settleChecksum(expected.sha256);
    if (this.bytes > expected.size) this.abort(this.overrun(this.bytes));
    else this.endIfWhole();
  }

  /** Gives up: the unpack fails with `reason` and destDir is left as it was. */
  abort(reason: Error): void {
    this.pipe.destroy(reason);
  }

  private endIfWhole(): void {
    if (this.expected && this.bytes === this.expected.size && !this.pipe.writableEnded) this.pipe.end();
  }

  private overrun(got: number): YardError {
    return new YardError(
      'BAD_ARCHIVE',
      `the checkpoint stream ran to ${got} bytes, past the ${this.expected?.size} bytes its sender announced; ${this.destDir} was left as it was; transfer it again`,
      { expected: String(this.expected?.size), received: String(got) },
    );
  }
}

/** Until `stream` wants more, or is gone. */
function drained(stream: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
