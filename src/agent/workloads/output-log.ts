// A workload's output on disk, so it outlives an agent restart: output.log, rotated to
// output.log.1 at a size cap (one old file kept). Writes never block the supervisor: when the
// disk falls behind by more than a cap's worth, output is dropped from the file (the ring in
// memory still has it) and a line says so.
import { createWriteStream, renameSync, statSync, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';

const OUTPUT_LOG_MAX_BYTES = 1024 * 1024;

export class OutputLog {
  private stream: WriteStream;
  private bytes: number;
  private dropped = 0;

  constructor(
    private readonly file: string,
    private readonly maxBytes = OUTPUT_LOG_MAX_BYTES,
    private readonly onError: (err: Error) => void = () => {},
  ) {
    this.bytes = sizeOf(file);
    this.stream = this.openStream();
  }

  write(data: Buffer): void {
    if (this.stream.writableLength > this.maxBytes) {
      this.dropped += data.length;
      return;
    }
    if (this.dropped > 0) {
      this.append(
        Buffer.from(
          `\r\n[switchyard: ${this.dropped} bytes of output not written to this file: the disk was too slow]\r\n`,
        ),
      );
      this.dropped = 0;
    }
    this.append(data);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }

  private append(data: Buffer): void {
    if (this.bytes > 0 && this.bytes + data.length > this.maxBytes) this.rotate();
    this.stream.write(data);
    this.bytes += data.length;
  }

  // The old stream keeps its descriptor, so what it still has buffered lands in output.log.1.
  private rotate(): void {
    this.stream.end();
    try {
      renameSync(this.file, `${this.file}.1`);
    } catch (err) {
      this.onError(err as Error);
    }
    this.bytes = 0;
    this.stream = this.openStream();
  }

  private openStream(): WriteStream {
    // Owner-only whatever the umask: a workload's output is its own (SpecStore tightens old files).
    const s = createWriteStream(this.file, { flags: 'a', mode: 0o600 });
    s.on('error', (err) => this.onError(err));
    return s;
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The last `bytes` of what a workload wrote before (output.log.1 then output.log). */
export async function readOutputTail(file: string, bytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let want = bytes;
  for (const f of [file, `${file}.1`]) {
    if (want <= 0) break;
    const part = await readTail(f, want);
    parts.unshift(part);
    want -= part.length;
  }
  return Buffer.concat(parts);
}

async function readTail(file: string, bytes: number): Promise<Buffer> {
  const fh = await open(file, 'r').catch(() => undefined);
  if (!fh) return Buffer.alloc(0);
  try {
    const size = (await fh.stat()).size;
    const take = Math.min(size, bytes);
    const buf = Buffer.alloc(take);
    await fh.read(buf, 0, take, size - take);
    return buf;
  } finally {
    await fh.close();
  }
}
