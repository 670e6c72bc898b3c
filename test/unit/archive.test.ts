import { createHash } from 'node:crypto';
import {
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packStateDir, unpackArchive } from '../../src/agent/checkpoint/archive.js';
import { EntryCheck, MAX_ENTRIES } from '../../src/agent/checkpoint/entry-check.js';
import { tempDir } from '../helpers/procs.js';
import { HOSTILE, rawTar, rejection, tree } from './checkpoint-fixture.js';

const MB = 1024 * 1024;

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

describe('checkpoint archives', () => {
  let root: string;
  let src: string;
  let dest: string;

  beforeEach(() => {
    root = tempDir('yard-archive-');
    src = join(root, 'src');
    dest = join(root, 'host', 'state');
    mkdirSync(src);
    mkdirSync(dest, { recursive: true });
    writeFileSync(join(dest, 'keep.txt'), 'pre-existing');
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('round-trips files, nested dirs, an in-dir symlink and an empty dir', async () => {
    mkdirSync(join(src, 'model/layers'), { recursive: true });
    mkdirSync(join(src, 'empty'));
    writeFileSync(join(src, 'step.txt'), '4242\n');
    const weights = Buffer.alloc(3 * MB + 7, 0).map((_, i) => (i * 31) % 251);
    writeFileSync(join(src, 'model/layers/w.bin'), weights);
    symlinkSync('../step.txt', join(src, 'model/latest'));
    linkSync(join(src, 'step.txt'), join(src, 'model/step.hard'));
    mkfifoSafe(join(src, 'control.fifo'));

    const file = join(root, 'ckpt.tar');
    const packed = await packStateDir(src, file, { maxBytes: 64 * MB });
    expect(packed.size).toBe(statSync(file).size);
    expect(packed.sha256).toBe(sha256(file));
    expect(readdirSync(root)).not.toContain('ckpt.tar.partial');

    const got = await unpackArchive(file, dest, { maxBytes: 64 * MB, sha256: packed.sha256 });
    expect(got).toEqual({ files: 2, bytes: 5 + weights.length });
    expect(tree(dest)).toEqual([
      'empty/',
      'model/',
      'model/latest',
      'model/layers/',
      'model/layers/w.bin',
      'model/step.hard',
      'step.txt',
    ]);
    expect(statSync(join(dest, 'model/step.hard')).ino).toBe(statSync(join(dest, 'step.txt')).ino);
    expect(readFileSync(join(dest, 'step.txt'), 'utf8')).toBe('4242\n');
    expect(readFileSync(join(dest, 'model/layers/w.bin')).equals(weights)).toBe(true);
    expect(readlinkSync(join(dest, 'model/latest'))).toBe('../step.txt');
    expect(readFileSync(join(dest, 'model/latest'), 'utf8')).toBe('4242\n');
    // The old content is replaced, and no temp dir is left beside it.
    expect(readdirSync(join(root, 'host'))).toEqual(['state']);
  });

  it('packs an empty state dir into an archive that unpacks to an empty dir', async () => {
    const file = join(root, 'empty.tar');
    const packed = await packStateDir(src, file, { maxBytes: MB });
    await unpackArchive(file, dest, { maxBytes: MB, sha256: packed.sha256 });
    expect(readdirSync(dest)).toEqual([]);
  });

  it('refuses to pack a state dir over the size limit, and one with a link out of it', async () => {
    writeFileSync(join(src, 'big.bin'), Buffer.alloc(64 * 1024));
    const file = join(root, 'ckpt.tar');
    const big = await rejection(packStateDir(src, file, { maxBytes: 1024 }));
    expect(big.code).toBe('CHECKPOINT_TOO_LARGE');
    expect(big.message).toContain(src);
    // Just over the content size: the archive's headers push it past the limit.
    const edge = await rejection(packStateDir(src, file, { maxBytes: 64 * 1024 + 100 }));
    expect(edge.code).toBe('CHECKPOINT_TOO_LARGE');
    expect(readdirSync(root).sort()).toEqual(['host', 'src']);

    rmSync(join(src, 'big.bin'));
    symlinkSync('/etc/passwd', join(src, 'passwd'));
    const out = await rejection(packStateDir(src, file, { maxBytes: MB }));
    expect(out.code).toBe('CHECKPOINT_UNPORTABLE');
    expect(out.message).toContain('passwd');
  });

  it.each(HOSTILE)('refuses %s and leaves the destination untouched', async (_what, entries, why) => {
    const file = join(root, 'hostile.tar');
    writeFileSync(file, rawTar([{ path: 'innocent.txt', type: 'File', body: 'hello' }, ...entries]));
    const before = readdirSync(root).sort();
    const err = await rejection(unpackArchive(file, dest, { maxBytes: MB, sha256: sha256(file) }));
    expect(err.code).toBe('HOSTILE_ARCHIVE');
    expect(err.message).toMatch(why);
    expect(err.message).toContain(dest);
    expect(tree(dest)).toEqual(['keep.txt']);
    expect(readdirSync(root).sort()).toEqual(before);
    expect(readdirSync(join(root, 'host'))).toEqual(['state']);
  });

  it('refuses an archive that unpacks past maxBytes, naming the limit', async () => {
    const file = join(root, 'big.tar');
    writeFileSync(
      file,
      rawTar([
        { path: 'a', type: 'File', body: 'x'.repeat(600) },
        { path: 'b', type: 'File', body: 'y'.repeat(600) },
      ]),
    );
    const err = await rejection(unpackArchive(file, dest, { maxBytes: 1000 }));
    expect(err.code).toBe('HOSTILE_ARCHIVE');
    expect(err.message).toMatch(/entry "b" .*limit of 1000 bytes/);
    expect(tree(dest)).toEqual(['keep.txt']);
  });

  it('refuses an archive past its entry limit and removes what it had written', async () => {
    const entries = Array.from({ length: 1000 }, (_, i) => ({ path: `d${i}/`, type: 'Directory' as const }));
    const file = join(root, 'many.tar');
    writeFileSync(file, rawTar(entries));
    const err = await rejection(unpackArchive(file, dest, { maxBytes: MB, maxEntries: 500 }));
    expect(err.code).toBe('HOSTILE_ARCHIVE');
    expect(err.message).toMatch(/entry "d499\/" is past the limit of 500 entries/);
    expect(tree(dest)).toEqual(['keep.txt']);
    expect(readdirSync(join(root, 'host'))).toEqual(['state']);
  });

  it('checks the sha256 before anything else', async () => {
    writeFileSync(join(src, 'state.json'), '{"step":1}');
    const file = join(root, 'ckpt.tar');
    await packStateDir(src, file, { maxBytes: MB });
    const err = await rejection(unpackArchive(file, dest, { maxBytes: MB, sha256: '0'.repeat(64) }));
    expect(err.code).toBe('CHECKSUM_MISMATCH');
    expect(err.details.actual).toBe(sha256(file));
    expect(tree(dest)).toEqual(['keep.txt']);
  });

  it('refuses a file that is not a tar archive', async () => {
    const file = join(root, 'junk.tar');
    writeFileSync(file, Buffer.alloc(2048, 0x41));
    const err = await rejection(unpackArchive(file, dest, { maxBytes: MB }));
    expect(err.code).toBe('BAD_ARCHIVE');
    expect(tree(dest)).toEqual(['keep.txt']);
  });

  it('refuses a gzip-compressed archive before node-tar sees a byte of it', async () => {
    writeFileSync(join(src, 'state.json'), '{"step":1}');
    const plain = join(root, 'ckpt.tar');
    await packStateDir(src, plain, { maxBytes: MB });
    const file = join(root, 'ckpt.tar.gz');
    // A valid archive inside: node-tar alone would gunzip it and unpack it without a word.
    writeFileSync(file, gzipSync(readFileSync(plain)));
    const t0 = Date.now();
    const err = await rejection(unpackArchive(file, dest, { maxBytes: MB, sha256: sha256(file) }));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(err.code).toBe('BAD_ARCHIVE');
    expect(err.details.format).toBe('gzip');
    expect(err.message).toMatch(
      /is gzip-compressed: an agent accepts only the plain tar archives Switchyard agents write/,
    );
    expect(err.message).toContain(dest);
    expect(tree(dest)).toEqual(['keep.txt']);
    expect(readdirSync(join(root, 'host'))).toEqual(['state']);
  });

  it('refuses zstd (by its magic bytes) and a tar that another tool wrote', async () => {
    const zst = join(root, 'ckpt.tar.zst');
    writeFileSync(zst, Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(4096, 0x55)]));
    const z = await rejection(unpackArchive(zst, dest, { maxBytes: MB }));
    expect(z.code).toBe('BAD_ARCHIVE');
    expect(z.details.format).toBe('zstd');

    writeFileSync(join(src, 'state.json'), '{"step":1}');
    const other = join(root, 'other.tar');
    execFileSync('tar', ['--format=ustar', '-cf', other, '-C', src, 'state.json']);
    const o = await rejection(unpackArchive(other, dest, { maxBytes: MB }));
    expect(o.code).toBe('BAD_ARCHIVE');
    expect(o.details.format).toBe('unknown');
    expect(o.message).toMatch(/does not begin with the state dir/);
    expect(tree(dest)).toEqual(['keep.txt']);
  });

  it('refuses a truncated archive and removes what it had written', async () => {
    writeFileSync(join(src, 'a.bin'), Buffer.alloc(200 * 1024, 1));
    writeFileSync(join(src, 'b.bin'), Buffer.alloc(200 * 1024, 2));
    const file = join(root, 'ckpt.tar');
    await packStateDir(src, file, { maxBytes: MB });
    truncateSync(file, 300 * 1024);
    const err = await rejection(unpackArchive(file, dest, { maxBytes: MB }));
    expect(err.code).toBe('BAD_ARCHIVE');
    expect(tree(dest)).toEqual(['keep.txt']);
    expect(readdirSync(join(root, 'host'))).toEqual(['state']);
  });

  it('unpacks into a destination that does not exist yet', async () => {
    writeFileSync(join(src, 'state.json'), '{"step":1}');
    const file = join(root, 'ckpt.tar');
    await packStateDir(src, file, { maxBytes: MB });
    const fresh = join(root, 'other', 'workloads', 'w', 'state');
    await unpackArchive(file, fresh, { maxBytes: MB });
    expect(readFileSync(join(fresh, 'state.json'), 'utf8')).toBe('{"step":1}');
  });
});

function mkfifoSafe(path: string): void {
  execFileSync('mkfifo', [path]);
}

describe('EntryCheck', () => {
  it('takes exactly 100,000 entries and refuses the next one', () => {
    const check = new EntryCheck(MB);
    for (let i = 0; i < MAX_ENTRIES; i++) check.add({ path: `d${i}/`, type: 'Directory', size: 0 });
    expect(() => check.add({ path: 'one-more', type: 'File', size: 0 })).toThrow(
      /entry "one-more" is past the limit of 100000 entries/,
    );
  });

  it('refuses a path longer than PATH_MAX, and a hardlink through a symlink', () => {
    expect(() => new EntryCheck(MB).add({ path: `${'d/'.repeat(2100)}x`, type: 'File', size: 0 })).toThrow(
      /longer than 4096 bytes/,
    );
    const check = new EntryCheck(MB);
    check.add({ path: 'dir/', type: 'Directory', size: 0 });
    check.add({ path: 'dir/f', type: 'File', size: 1 });
    check.add({ path: 'via', type: 'SymbolicLink', size: 0, linkpath: 'dir' });
    expect(() => check.add({ path: 'h', type: 'Link', size: 0, linkpath: 'via/f' })).toThrow(
      /not a file earlier in the archive/,
    );
    expect(check.add({ path: 'h2', type: 'Link', size: 0, linkpath: 'dir/f' })).toEqual({
      kind: 'hardlink',
      rel: 'h2',
      targetRel: 'dir/f',
    });
  });
});
