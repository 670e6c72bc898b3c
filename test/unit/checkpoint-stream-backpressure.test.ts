// A slow reader holds the packer back: a 64 MB state dir read at a crawl never has more than a
// few MB of its archive in memory, with or without a kept copy. Real files.
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { packToStream } from '../../src/agent/checkpoint/pack-stream.js';
import { tempDir } from '../helpers/procs.js';

const MB = 1024 * 1024;
// Buffers are counted after a collection, so garbage waiting for one is not taken for buffering.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let root: string;
let src: string;

beforeEach(() => {
  root = tempDir('yard-ckstream-bp-');
  src = join(root, 'src');
  mkdirSync(join(src, 'shards'), { recursive: true });
  const block = Buffer.alloc(MB).map((_, i) => i % 239);
  for (let i = 0; i < 4; i++) writeFileSync(join(src, 'shards', `${i}.bin`), Buffer.concat(Array(15).fill(block)));
  writeFileSync(join(src, 'tail.bin'), Buffer.concat(Array(4).fill(block)));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

it.each([
  ['without a kept copy', false],
  ['with a kept copy', true],
])(
  'packs 64 MB for a slow reader %s, holding a few MB at most',
  async (_what, withKeep) => {
    const keep = withKeep ? join(root, 'kept.tar') : undefined;
    const packing = await packToStream(src, { maxBytes: 128 * MB, keep });
    const hash = createHash('sha256');
    let consumed = 0;
    let ahead = 0;
    let external = 0;
    gc();
    const baseline = process.memoryUsage().arrayBuffers;
    // About 50 MB/s, far slower than packing from the page cache.
    const slow = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _enc, done) {
        consumed += chunk.length;
        hash.update(chunk);
        ahead = Math.max(ahead, packing.packed - consumed);
        if (consumed % (4 * MB) < chunk.length) {
          gc();
          external = Math.max(external, process.memoryUsage().arrayBuffers - baseline);
        }
        sleep(Math.ceil(chunk.length / (50 * 1024))).then(() => done());
      },
    });
    await pipeline(packing.stream, slow);
    const result = await packing.result;
    expect(consumed).toBe(result.size);
    expect(consumed).toBeGreaterThan(64 * MB);
    expect(hash.digest('hex')).toBe(result.sha256);
    if (keep) expect(statSync(keep).size).toBe(result.size);
    // Packed but not yet read: the stream's 1 MB buffer and the chunk on its way.
    expect(ahead).toBeLessThanOrEqual(3 * MB);
    // Buffers alive, after a collection: those two, the pipeline's 1 MB between node-tar and the
    // hasher, and node-tar's 1 MB read buffers (up to 4 files open at once): not the archive.
    expect(external).toBeLessThan(16 * MB);
  },
  30_000,
);
