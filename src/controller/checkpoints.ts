import { createHash, type Hash } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerReadableStream, ServerWritableStream, sendUnaryData } from '@grpc/grpc-js';
import { YardError, errorMessage } from '../core/errors.js';
import { toServiceError } from '../core/rpc/errors.js';
import type {
  DownloadCheckpointRequest,
  DownloadCheckpointResponse,
  UploadCheckpointRequest,
  UploadCheckpointResponse,
} from '../gen/switchyard/v1/agent_gateway.js';

/** Chunks stay well under the 4 MiB message limit. */
const CHUNK_BYTES = 1024 * 1024;
const ID = /^[A-Za-z0-9-]{8,64}$/;

interface Expected {
  maxBytes: number;
  /** Running hash of the bytes received so far (lost on restart: recomputed from the file). */
  hash?: Hash;
  received: number;
  /** Bytes of the part file already written out: what a download may read while the upload goes on. */
  written: number;
  /** Set when the upload cannot complete (removed): downloads under way end with it. */
  failure?: YardError;
  /** Bumped when the bytes start over (a bad checksum): a download that read the old ones ends. */
  generation: number;
  onProgress?: (bytes: number) => void;
}

/** How long a download waits without the upload growing before it gives up. */
const STALL_MS = 60_000;

/**
 * Checkpoint archives in transit, kept in the controller's data dir: the source agent uploads
 * (resumable: a new stream starts at the offset already held), the target downloads from any
 * offset. Only ids the coordinator announced are accepted, each up to its size limit.
 */
export class CheckpointStore {
  private readonly expected = new Map<string, Expected>();
  /** Wakes downloads that wait for an upload to grow, finish or fail. */
  private readonly growth = new EventEmitter<{ grew: [string] }>().setMaxListeners(0);
  /** Who wants to hear how a download is going (the coordinator, per migration). */
  private readonly downloadProgress = new Map<string, (bytes: number) => void>();

  onDownload(id: string, cb: ((bytes: number) => void) | undefined): void {
    if (cb) this.downloadProgress.set(id, cb);
    else this.downloadProgress.delete(id);
  }

  constructor(private readonly dir: string) {}

  private part(id: string) {
    return join(this.dir, `${id}.tar.part`);
  }
  private done(id: string) {
    return join(this.dir, `${id}.tar`);
  }

  /** Owner-only (0700, archives 0600) whatever the umask, old archives included: they hold workloads' state. */
  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
    for (const name of await readdir(this.dir)) {
      await chmod(join(this.dir, name), 0o600).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err; // removed meanwhile
      });
    }
  }

  /** Announces an upload. */
  expect(id: string, maxBytes: number, onProgress?: (bytes: number) => void): void {
    this.expected.set(id, { maxBytes, received: 0, written: 0, generation: 0, onProgress });
  }

  /** Size of a complete archive, or undefined. */
  async completeSize(id: string): Promise<number | undefined> {
    return stat(this.done(id)).then(
      (s) => s.size,
      () => undefined,
    );
  }

  async remove(id: string): Promise<void> {
    const exp = this.expected.get(id);
    if (exp) exp.failure ??= new YardError('NOT_FOUND', `checkpoint ${id} was dropped: its migration ended`);
    this.expected.delete(id);
    this.growth.emit('grew', id);
    this.downloadProgress.delete(id);
    await rm(this.part(id), { force: true });
    await rm(this.done(id), { force: true });
  }

  /** AgentGateway.UploadCheckpoint; `allowed` throws when the caller may not upload that checkpoint. */
  upload(
    call: ServerReadableStream<UploadCheckpointRequest, UploadCheckpointResponse>,
    callback: sendUnaryData<UploadCheckpointResponse>,
    allowed: (checkpointId: string) => void = () => undefined,
  ): void {
    let id: string | undefined;
    let exp: Expected | undefined;
    let out: ReturnType<typeof createWriteStream> | undefined;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      out?.destroy();
      callback(toServiceError(err));
    };
    const open = async (first: UploadCheckpointRequest) => {
      id = first.checkpointId;
      allowed(id);
      exp = this.expected.get(id);
      if (!ID.test(id) || !exp) throw new YardError('NOT_FOUND', `no checkpoint upload "${id}" is expected`);
      const have = await stat(this.part(id)).then(
        (s) => s.size,
        () => 0,
      );
      if (first.offset !== have)
        throw new YardError('FAILED_PRECONDITION', `upload of ${id} must resume at byte ${have}`, {
          have: String(have),
        });
      if (!exp.hash || exp.received !== have) exp.hash = await hashFile(this.part(id), have);
      exp.received = have;
      exp.written = have;
      out = createWriteStream(this.part(id), { flags: have ? 'a' : 'w', mode: 0o600 });
    };
    // Chunks are written one after another: the stream is paused while a chunk (and the opening
    // rehash) waits, and a full disk buffer is waited out once, however many chunks came meanwhile.
    let ready: Promise<void> | undefined;
    call.on('data', (chunk: UploadCheckpointRequest) => {
      call.pause();
      ready = (ready ?? open(chunk)).then(async () => {
        if (failed) return;
        const e = exp!;
        if (e.received + chunk.data.length > e.maxBytes)
          throw new YardError('CHECKPOINT_TOO_LARGE', `checkpoint ${id} is over its limit of ${e.maxBytes} bytes`);
        e.hash!.update(chunk.data);
        e.received += chunk.data.length;
        e.onProgress?.(e.received);
        const len = chunk.data.length;
        const flushed = out!.write(chunk.data, (err) => {
          if (err) return;
          e.written += len;
          this.growth.emit('grew', id!);
        });
        if (!flushed) await once(out!, 'drain');
        if (chunk.last) return this.finish(id!, e, chunk.sha256, out!).then(callback.bind(null, null));
        call.resume();
        return undefined;
      });
      ready.catch(fail);
    });
    call.on('error', (err) => fail(err));
    call.on('end', () => {
      // A failed chunk was reported through fail() already.
      void (ready ?? Promise.resolve()).then(
        () => {
          if (!failed && out && !out.closed) out.end();
        },
        () => undefined,
      );
    });
  }

  private async finish(
    id: string,
    exp: Expected,
    sha256: string,
    out: ReturnType<typeof createWriteStream>,
  ): Promise<UploadCheckpointResponse> {
    await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
    const got = exp.hash!.digest('hex');
    if (got !== sha256) {
      await rm(this.part(id), { force: true });
      const err = new YardError(
        'CHECKSUM_MISMATCH',
        `checkpoint ${id} arrived with sha256 ${got.slice(0, 12)}…, the source sent ${sha256.slice(0, 12)}…`,
      );
      // A download that already read these bytes cannot use them: it ends, and the move with it.
      exp.generation++;
      exp.hash = undefined;
      exp.received = 0;
      exp.written = 0;
      this.growth.emit('grew', id);
      throw err;
    }
    await rename(this.part(id), this.done(id)).catch((err: NodeJS.ErrnoException) => {
      // Removed meanwhile: its migration ended while the bytes still came.
      if (err.code === 'ENOENT') throw new YardError('NOT_FOUND', `checkpoint ${id} was dropped: its migration ended`);
      throw err;
    });
    this.expected.delete(id);
    this.growth.emit('grew', id);
    return { size: exp.received, sha256: got };
  }

  /**
   * AgentGateway.DownloadCheckpoint: from `offset`, honouring the client's pace. It may start
   * while the upload still runs (a pipelined relay): it reads what the upload has written so
   * far and waits for more, so the bytes cross the controller once, not in two passes.
   */
  download(call: ServerWritableStream<DownloadCheckpointRequest, DownloadCheckpointResponse>): void {
    const { checkpointId: id, offset } = call.request;
    if (!ID.test(id)) {
      call.emit('error', toServiceError(new YardError('INVALID_ARGUMENT', `bad checkpoint id "${id}"`)));
      return;
    }
    let cancelled = false;
    call.on('cancelled', () => {
      cancelled = true;
      this.growth.emit('grew', id);
    });
    this.serveDownload(call, id, offset, () => cancelled).then(
      () => call.end(),
      (err: unknown) => {
        if (!cancelled)
          call.emit(
            'error',
            toServiceError(
              err instanceof YardError
                ? err
                : new YardError('NOT_FOUND', `checkpoint ${id} is not available: ${errorMessage(err)}`),
            ),
          );
      },
    );
  }

  private async serveDownload(
    call: ServerWritableStream<DownloadCheckpointRequest, DownloadCheckpointResponse>,
    id: string,
    offset: number,
    cancelled: () => boolean,
  ): Promise<void> {
    let pos = offset;
    let idleSince = Date.now();
    const generation = this.expected.get(id)?.generation;
    for (;;) {
      if (cancelled()) return;
      const complete = await this.completeSize(id);
      const exp = this.expected.get(id);
      if (complete === undefined && !exp) throw new YardError('NOT_FOUND', `checkpoint ${id} is not available`);
      if (exp?.failure) throw exp.failure;
      if (exp && generation !== undefined && exp.generation !== generation)
        throw new YardError('CHECKSUM_MISMATCH', `the upload of checkpoint ${id} arrived damaged and started over`);
      const end = complete ?? exp!.written;
      if (pos < end) {
        try {
          pos = await this.sendRange(call, complete !== undefined ? this.done(id) : this.part(id), id, pos, end);
        } catch (err) {
          // Renamed from .part to .tar between the two looks: read on from the complete one.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
        idleSince = Date.now();
        continue;
      }
      if (complete !== undefined) return;
      if (Date.now() - idleSince > STALL_MS)
        throw new YardError('UNAVAILABLE', `the upload of checkpoint ${id} stalled for ${STALL_MS / 1000} s`);
      await this.grown(id, 1000);
    }
  }

  /** Sends [from, to) of `file`; resolves with the position reached. */
  private sendRange(
    call: ServerWritableStream<DownloadCheckpointRequest, DownloadCheckpointResponse>,
    file: string,
    id: string,
    from: number,
    to: number,
  ): Promise<number> {
    return new Promise((resolve, reject) => {
      const input = createReadStream(file, { start: from, end: to - 1, highWaterMark: CHUNK_BYTES });
      let pos = from;
      input.on('data', (data) => {
        const buf = data as Buffer;
        const more = call.write({ offset: pos, data: buf });
        pos += buf.length;
        this.downloadProgress.get(id)?.(pos);
        if (!more) {
          input.pause();
          call.once('drain', () => input.resume());
        }
      });
      input.on('end', () => resolve(pos));
      input.on('error', reject);
      call.once('cancelled', () => input.destroy());
    });
  }

  /** Resolves when the upload of `id` grows, ends or fails, or after `ms`. */
  private grown(id: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.growth.off('grew', onGrew);
        resolve();
      };
      const onGrew = (which: string) => which === id && done();
      const timer = setTimeout(done, ms);
      this.growth.on('grew', onGrew);
    });
  }
}

async function hashFile(file: string, bytes: number): Promise<Hash> {
  const hash = createHash('sha256');
  if (bytes === 0) return hash;
  for await (const chunk of createReadStream(file, { end: bytes - 1 })) hash.update(chunk as Buffer);
  return hash;
}
