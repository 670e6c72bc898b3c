// A checkpoint packed onto a stream and unpacked off one, with no archive file in between:
// the same archive, the same checks and the same errors as the file path. Real files; the
// streams are fed in small, uneven pieces, as a connection delivers them.
import { createHash } from 'node:crypto';
import {
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packStateDir } from '../../src/agent/checkpoint/archive.js';
import { packToStream, readKept } from '../../src/agent/checkpoint/pack-stream.js';
import { unpackFromStream } from '../../src/agent/checkpoint/unpack.js';
import { tempDir } from '../helpers/procs.js';
import { HOSTILE, rawTar, rejection, tree } from './checkpoint-fixture.js';

const MB = 1024 * 1024;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `data` in pieces of 1 to `most` bytes (a seeded walk, so a failure repeats). */
function dribble(data: Buffer, most = 700): Readable {
  let seed = 42;
  const pieces: Buffer[] = [];
  for (let at = 0; at < data.length; ) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const n = 1 + (seed % most);
    pieces.push(data.subarray(at, at + n));
    at += n;
  }
  return Readable.from(pieces, { objectMode: false });
}

describe('checkpoint streams', () => {
  let root: string;
  let src: string;
  let dest: string;

  beforeEach(() => {
    root = tempDir('yard-ckstream-');
    src = join(root, 'src');
    dest = join(root, 'host', 'state');
    mkdirSync(src);
    mkdirSync(dest, { recursive: true });
    writeFileSync(join(dest, 'keep.txt'), 'pre-existing');
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** Every file in `dest` as it left `src`, links as links. */
  function expectSameTree(): void {
    expect(tree(dest)).toEqual(tree(src));
    for (const path of tree(src)) {
      const was = lstatSync(join(src, path));
      if (was.isSymbolicLink()) expect(readlinkSync(join(dest, path))).toBe(readlinkSync(join(src, path)));
      else if (was.isFile()) expect(readFileSync(join(dest, path)).equals(readFileSync(join(src, path)))).toBe(true);
    }
  }

  it('round-trips nested dirs, links, an empty file and a 20 MB file, keeping a copy', async () => {
    mkdirSync(join(src, 'model/layers/deep'), { recursive: true });
    mkdirSync(join(src, 'empty-dir'));
    writeFileSync(join(src, 'step.txt'), '4242\n');
    writeFileSync(join(src, 'empty.bin'), '');
    const big = Buffer.alloc(20 * MB).map((_, i) => (i * 131 + (i >> 12)) % 253);
    writeFileSync(join(src, 'model/layers/deep/w.bin'), big);
    symlinkSync('../step.txt', join(src, 'model/latest'));
    symlinkSync('layers/deep/w.bin', join(src, 'model/weights'));
    linkSync(join(src, 'step.txt'), join(src, 'model/step.hard'));

    const keep = join(root, 'kept.tar');
    const packing = await packToStream(src, { maxBytes: 64 * MB, keep });
    const seen = createHash('sha256');
    packing.stream.on('data', (d: Buffer) => seen.update(d));
    const sha = packing.result.then((r) => r.sha256);
    const got = await unpackFromStream(packing.stream, dest, { maxBytes: 64 * MB, sha256: sha, sender: 'host-a' });
    const packed = await packing.result;

    expect(got).toEqual({ files: 3, bytes: 5 + big.length });
    expectSameTree();
    expect(readFileSync(join(dest, 'model/weights')).equals(big)).toBe(true);
    expect(statSync(join(dest, 'model/step.hard')).ino).toBe(statSync(join(dest, 'step.txt')).ino);
    expect(readdirSync(join(root, 'host'))).toEqual(['state']);
    // What went over the stream is what was kept, owner-only, and what packStateDir writes.
    expect(seen.digest('hex')).toBe(packed.sha256);
    const kept = readFileSync(keep);
    expect(kept.length).toBe(packed.size);
    expect(sha256(kept)).toBe(packed.sha256);
    expect(statSync(keep).mode & 0o777).toBe(0o600);
    const file = join(root, 'file.tar');
    expect(await packStateDir(src, file, { maxBytes: 64 * MB })).toEqual(packed);
    // A receiver that got K bytes is served the rest from the kept file.
    for (const k of [0, 1, 511, 512, 777_777, packed.size - 1, packed.size]) {
      expect((await buffer(readKept(keep, k))).equals(kept.subarray(k))).toBe(true);
      expect((await buffer(packing.from(k))).equals(kept.subarray(k))).toBe(true);
    }
    await expect(buffer(readKept(keep, packed.size + 1))).rejects.toThrow(/past the end/);
  });

  it('packs an empty state dir onto a stream that unpacks to an empty dir', async () => {
    const packing = await packToStream(src, { maxBytes: MB });
    await unpackFromStream(packing.stream, dest, { maxBytes: MB, sha256: packing.result.then((r) => r.sha256) });
    expect(tree(dest)).toEqual([]);
  });

  it('refuses to pack what packStateDir refuses, before a byte is streamed, and leaves no kept file', async () => {
    writeFileSync(join(src, 'big.bin'), Buffer.alloc(64 * 1024));
    const keep = join(root, 'kept.tar');
    const big = await rejection(packToStream(src, { maxBytes: 1024, keep }));
    expect(big.code).toBe('CHECKPOINT_TOO_LARGE');
    expect(big.message).toContain(src);
    // Just over the content size: the archive's headers push it past the limit as it streams.
    const edge = await packToStream(src, { maxBytes: 64 * 1024 + 100, keep });
    const streamed = await rejection(buffer(edge.stream));
    expect(streamed.code).toBe('CHECKPOINT_TOO_LARGE');
    expect((await rejection(edge.result)).code).toBe('CHECKPOINT_TOO_LARGE');
    expect(readdirSync(root).sort()).toEqual(['host', 'src']);

    rmSync(join(src, 'big.bin'));
    symlinkSync('/etc/passwd', join(src, 'passwd'));
    const out = await rejection(packToStream(src, { maxBytes: MB, keep }));
    expect(out.code).toBe('CHECKPOINT_UNPORTABLE');
    expect(out.message).toContain('passwd');
  });

  it('stops packing when the reader goes away, unless it keeps a copy to serve the rest from', async () => {
    writeFileSync(join(src, 'a.bin'), Buffer.alloc(8 * MB, 7));
    const gone = await packToStream(src, { maxBytes: 64 * MB });
    gone.stream.once('data', () => gone.stream.destroy());
    const err = await rejection(gone.result);
    expect(err.code).toBe('CHECKPOINT_FAILED');
    expect(err.message).toMatch(/reader of the checkpoint stream went away/);

    const keep = join(root, 'kept.tar');
    const kept = await packToStream(src, { maxBytes: 64 * MB, keep });
    const got = await new Promise<Buffer>((resolve) =>
      kept.stream.once('data', (d: Buffer) => {
        kept.stream.destroy();
        resolve(d);
      }),
    );
    expect(kept.packed).toBeLessThan(8 * MB);
    // The rest, followed from the kept file while the packer is still writing it.
    const rest = await buffer(kept.from(got.length));
    const packed = await kept.result;
    const whole = Buffer.concat([got, rest]);
    expect(whole.length).toBe(packed.size);
    expect(sha256(whole)).toBe(packed.sha256);
    await unpackFromStream(dribble(whole, 64 * 1024), dest, { maxBytes: 64 * MB, sha256: packed.sha256 });
    expect(readFileSync(join(dest, 'a.bin')).equals(Buffer.alloc(8 * MB, 7))).toBe(true);
  });

  it.each(HOSTILE)('refuses %s fed as a stream and leaves the destination untouched', async (_what, entries, why) => {
    const data = rawTar([{ path: 'innocent.txt', type: 'File', body: 'hello' }, ...entries]);
    const before = readdirSync(root).sort();
    const err = await rejection(
      unpackFromStream(dribble(data), dest, { maxBytes: MB, sha256: Promise.resolve(sha256(data)), sender: 'host-a' }),
    );
    expect(err.code).toBe('HOSTILE_ARCHIVE');
    expect(err.message).toMatch(why);
    expect(err.message).toContain(dest);
    expect(err.message).toContain('the checkpoint stream from host-a');
    expect(tree(dest)).toEqual(['keep.txt']);
    expect(readdirSync(root).sort()).toEqual(before);
    expect(readdirSync(join(root, 'host'))).toEqual(['state']);
  });

  it('refuses a stream past maxBytes or its entry limit', async () => {
    const big = rawTar([
      { path: 'a', type: 'File', body: 'x'.repeat(600) },
      { path: 'b', type: 'File', body: 'y'.repeat(600) },
    ]);
    const over = await rejection(unpackFromStream(dribble(big), dest, { maxBytes: 1000 }));
    expect(over.code).toBe('HOSTILE_ARCHIVE');
    expect(over.message).toMatch(/entry "b" .*limit of 1000 bytes/);
    const many = rawTar(Array.from({ length: 1000 }, (_, i) => ({ path: `d${i}/`, type: 'Directory' as const })));
    const err = await rejection(unpackFromStream(dribble(many), dest, { maxBytes: MB, maxEntries: 500 }));
    expect(err.message).toMatch(/entry "d499\/" is past the limit of 500 entries/);
    expect(tree(dest)).toEqual(['keep.txt']);
    expect(readdirSync(join(root, 'host'))).toEqual(['state']);
  });

  it('refuses gzip, zstd, junk and a short stream before node-tar sees a byte', async () => {
    writeFileSync(join(src, 'state.json'), '{"step":1}');
    const plain = await buffer((await packToStream(src, { maxBytes: MB })).stream);
    const cases: [Buffer, string][] = [
      [gzipSync(plain), 'gzip'],
      [Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(4096, 0x55)]), 'zstd'],
      [Buffer.alloc(2048, 0x41), 'unknown'],
      [plain.subarray(0, 300), 'unknown'],
    ];
    for (const [data, format] of cases) {
      const err = await rejection(unpackFromStream(dribble(data, 100), dest, { maxBytes: MB }));
      expect(err.code).toBe('BAD_ARCHIVE');
      expect(err.details.format).toBe(format);
      expect(err.message).toMatch(/an agent accepts only the plain tar archives Switchyard agents write/);
    }
    expect(tree(dest)).toEqual(['keep.txt']);
    expect(readdirSync(join(root, 'host'))).toEqual(['state']);
  });

  it('refuses a stream with one byte changed in the middle: CHECKSUM_MISMATCH, destination untouched', async () => {
    writeFileSync(join(src, 'a.bin'), Buffer.alloc(3 * MB, 1));
    writeFileSync(join(src, 'b.bin'), Buffer.alloc(3 * MB, 2));
    const packing = await packToStream(src, { maxBytes: 64 * MB });
    let seen = 0;
    const middle = 3 * MB; // inside a.bin's data, not a header
    const damaged = packing.stream.map((d: Buffer) => {
      if (seen <= middle && middle < seen + d.length) d[middle - seen] = d[middle - seen]! ^ 0x01;
      seen += d.length;
      return d;
    });
    const err = await rejection(
      unpackFromStream(damaged, dest, { maxBytes: 64 * MB, sha256: packing.result.then((r) => r.sha256) }),
    );
    expect(err.code).toBe('CHECKSUM_MISMATCH');
    expect(err.details.expected).toBe((await packing.result).sha256);
    expect(tree(dest)).toEqual(['keep.txt']);
    expect(readdirSync(join(root, 'host'))).toEqual(['state']);
  });

  it('refuses a stream that ends early, or breaks, and removes what it had written', async () => {
    writeFileSync(join(src, 'a.bin'), Buffer.alloc(200 * 1024, 1));
    writeFileSync(join(src, 'b.bin'), Buffer.alloc(200 * 1024, 2));
    const packing = await packToStream(src, { maxBytes: MB });
    const whole = await buffer(packing.stream);
    const { sha256: sha } = await packing.result;
    const cut = whole.subarray(0, 300 * 1024);

    const early = await rejection(unpackFromStream(dribble(cut, 64 * 1024), dest, { maxBytes: MB }));
    expect(early.code).toBe('BAD_ARCHIVE');
    const checked = await rejection(unpackFromStream(dribble(cut, 64 * 1024), dest, { maxBytes: MB, sha256: sha }));
    expect(checked.code).toBe('CHECKSUM_MISMATCH');

    const broken = new Readable({ read() {} });
    broken.push(cut);
    setTimeout(() => broken.destroy(new Error('connection reset by peer')), 20);
    const reset = await rejection(unpackFromStream(broken, dest, { maxBytes: MB, sha256: sha, sender: 'host-a' }));
    expect(reset.code).toBe('BAD_ARCHIVE');
    expect(reset.message).toMatch(/could not unpack the checkpoint stream from host-a .*connection reset by peer/);
    expect(tree(dest)).toEqual(['keep.txt']);
    expect(readdirSync(join(root, 'host'))).toEqual(['state']);
  });
});
