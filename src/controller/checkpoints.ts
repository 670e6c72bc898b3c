import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
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
  onProgress?: (bytes: number) => void;
}

/**
 * Checkpoint archives in transit, kept in the controller's data dir: the source agent uploads
 * (resumable: a new stream starts at the offset already held), the target downloads from any
 * offset. Only ids the coordinator announced are accepted, each up to its size limit.
 */
export class CheckpointStore {
  private readonly expected = new Map<string, Expected>();
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
    this.expected.set(id, { maxBytes, received: 0, onProgress });
  }

  /** Size of a complete archive, or undefined. */
  async completeSize(id: string): Promise<number | undefined> {
    return stat(this.done(id)).then(
      (s) => s.size,
      () => undefined,
    );
  }

  async remove(id: string): Promise<void> {
    this.expected.delete(id);
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
        if (!out!.write(chunk.data)) await once(out!, 'drain');
        if (chunk.last) return this.finish(id!, e, chunk.sha256, out!).then(callback.bind(null, null));
        call.resume();
        return undefined;
      });
      ready.catch(fail);
    });
    call.on('error', (err) => fail(err));
    call.on('end', () => {
      void (ready ?? Promise.resolve()).then(() => {
        if (!failed && out && !out.closed) out.end();
      });
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
      exp.hash = undefined;
      exp.received = 0;
      throw new YardError(
        'CHECKSUM_MISMATCH',
        `checkpoint ${id} arrived with sha256 ${got.slice(0, 12)}…, the source sent ${sha256.slice(0, 12)}…`,
      );
    }
    await rename(this.part(id), this.done(id));
    this.expected.delete(id);
    return { size: exp.received, sha256: got };
  }

  /** AgentGateway.DownloadCheckpoint: from `offset`, honouring the client's pace. */
  download(call: ServerWritableStream<DownloadCheckpointRequest, DownloadCheckpointResponse>): void {
    const { checkpointId: id, offset } = call.request;
    if (!ID.test(id)) {
      call.emit('error', toServiceError(new YardError('INVALID_ARGUMENT', `bad checkpoint id "${id}"`)));
      return;
    }
    const input = createReadStream(this.done(id), { start: offset, highWaterMark: CHUNK_BYTES });
    let pos = offset;
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
    input.on('end', () => call.end());
    input.on('error', (err) =>
      call.emit(
        'error',
        toServiceError(new YardError('NOT_FOUND', `checkpoint ${id} is not available: ${errorMessage(err)}`)),
      ),
    );
    call.on('cancelled', () => input.destroy());
  }
}

async function hashFile(file: string, bytes: number): Promise<Hash> {
  const hash = createHash('sha256');
  if (bytes === 0) return hash;
  for await (const chunk of createReadStream(file, { end: bytes - 1 })) hash.update(chunk as Buffer);
  return hash;
}
