import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { YardError, errorMessage } from '../core/errors.js';
import { errorDetailOf } from '../core/rpc/errors.js';
import { CLIENT_OPTIONS } from '../core/rpc/options.js';
import type { AgentTls } from './tls.js';
import {
  AgentGatewayClient,
  type DownloadCheckpointResponse,
  type UploadCheckpointResponse,
} from '../gen/switchyard/v1/agent_gateway.js';

/** Chunks stay well under the 4 MiB message limit. */
const CHUNK_BYTES = 1024 * 1024;
/** A dropped stream is resumed from where it broke this many times. */
const ATTEMPTS = 5;

/**
 * Bulk transfers on their own channel (a second HTTP/2 connection), so an archive in flight
 * never delays the session's heartbeats; a large receive window for downloads.
 */
export class Transfers {
  private made?: { client: AgentGatewayClient; version: number; controller: string };

  constructor(
    /** The controller, or how to know which one the session is with now (`--controller A,B`). */
    private readonly controller: string | (() => string),
    private readonly tls: Pick<AgentTls, 'channel' | 'version'>,
  ) {}

  /** The channel, made anew after the agent's certificate was renewed. */
  private get client(): AgentGatewayClient {
    const { tls } = this;
    const controller = typeof this.controller === 'string' ? this.controller : this.controller();
    if (this.made?.version !== tls.version || this.made.controller !== controller) {
      this.made?.client.close();
      const client = new AgentGatewayClient(controller, tls.channel(), {
        ...CLIENT_OPTIONS,
        'grpc-node.flow_control_window': 16 * 1024 * 1024,
        'grpc.use_local_subchannel_pool': 1,
      });
      this.made = { client, version: tls.version, controller };
    }
    return this.made.client;
  }

  close(): void {
    this.made?.client.close();
  }

  /** Uploads `file` as checkpoint `id`; resumes at the controller's offset after a dropped stream. */
  async upload(id: string, file: string, sha256: string): Promise<UploadCheckpointResponse> {
    const size = (await stat(file)).size;
    let offset = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.uploadFrom(id, file, sha256, size, offset);
      } catch (err) {
        const detail = errorDetailOf(err as ServiceError);
        if (detail?.details.have !== undefined) offset = Number(detail.details.have);
        else if (detail) throw new YardError(detail.code, detail.message, detail.details);
        if (attempt >= ATTEMPTS)
          throw new YardError(
            'UPLOAD_FAILED',
            `uploading checkpoint ${id} failed after ${attempt} attempts: ${errorMessage(err)}`,
          );
      }
    }
  }

  private uploadFrom(
    id: string,
    file: string,
    sha256: string,
    size: number,
    offset: number,
  ): Promise<UploadCheckpointResponse> {
    return new Promise((resolve, reject) => {
      const call = this.client.uploadCheckpoint(new Metadata(), (err, res) => (err ? reject(err) : resolve(res!)));
      const input = createReadStream(file, { start: offset, highWaterMark: CHUNK_BYTES });
      let pos = offset;
      if (size === offset) {
        call.write({ checkpointId: id, offset, data: Buffer.alloc(0), sha256, last: true });
        call.end();
        return;
      }
      input.on('data', (data) => {
        const buf = data as Buffer;
        const last = pos + buf.length >= size;
        const more = call.write({ checkpointId: id, offset: pos, data: buf, sha256: last ? sha256 : '', last });
        pos += buf.length;
        if (last) call.end();
        else if (!more) {
          input.pause();
          call.once('drain', () => input.resume());
        }
      });
      input.on('error', (err) => {
        call.cancel();
        reject(err);
      });
    });
  }

  /** Downloads checkpoint `id` of `size` bytes into `file`, resuming from what it holds. */
  async download(id: string, file: string, size: number, onProgress?: (bytes: number) => void): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const have = await stat(file).then(
        (s) => s.size,
        () => 0,
      );
      if (have === size) return;
      try {
        await this.downloadFrom(id, file, have, onProgress);
      } catch (err) {
        const detail = errorDetailOf(err as ServiceError);
        if (detail) throw new YardError(detail.code, detail.message, detail.details);
        if (attempt >= ATTEMPTS)
          throw new YardError(
            'DOWNLOAD_FAILED',
            `downloading checkpoint ${id} failed after ${attempt} attempts: ${errorMessage(err)}`,
          );
      }
    }
  }

  private downloadFrom(id: string, file: string, offset: number, onProgress?: (bytes: number) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const out = createWriteStream(file, { flags: offset ? 'a' : 'w', mode: 0o600 });
      const call = this.client.downloadCheckpoint({ checkpointId: id, offset }, new Metadata());
      let pos = offset;
      call.on('data', (chunk: DownloadCheckpointResponse) => {
        if (chunk.offset !== pos) {
          call.cancel();
          reject(new Error(`chunk at ${chunk.offset}, expected ${pos}`));
          return;
        }
        pos += chunk.data.length;
        onProgress?.(pos);
        if (!out.write(chunk.data)) {
          call.pause();
          out.once('drain', () => call.resume());
        }
      });
      call.on('end', () => out.end(() => resolve()));
      call.on('error', (err) => out.end(() => reject(err)));
    });
  }
}
