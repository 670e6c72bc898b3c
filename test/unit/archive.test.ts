import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Header, type HeaderData } from 'tar';
import { packStateDir, unpackArchive } from '../../src/agent/checkpoint/archive.js';
import { YardError } from '../../src/core/errors.js';
import { tempDir } from '../helpers/procs.js';

const MB = 1024 * 1024;

/** A tar file written header by header, so it can hold what node-tar would never write. */
function rawTar(entries: (HeaderData & { body?: string })[]): Buffer {
  const blocks: Buffer[] = [];
  for (const { body = '', ...data } of entries) {
    const content = Buffer.from(body);
    const h = new Header({ mode: 0o644, mtime: new Date(0), ...data, size: content.length });
    h.encode();
    blocks.push(h.block!, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

async function rejection(p: Promise<unknown>): Promise<YardError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(YardError);
  return err as YardError;
}

/** Every path under `dir`, relative, sorted: to prove nothing appeared or went missing. */
function tree(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel)).flatMap((name) => {
    const path = rel ? `${rel}/${name}` : name;
    return lstatSync(join(dir, path)).isDirectory() ? [`${path}/`, ...tree(dir, path)] : [path];
  }).sort();
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
    mkfifoSafe(join(src, 'control.fifo'));

    const file = join(root, 'ckpt.tar');
    const packed = await packStateDir(src, file, { maxBytes: 64 * MB });
    expect(packed.size).toBe(statSync(file).size);
    expect(packed.sha256).toBe(sha256(file));
    expect(readdirSync(root)).not.toContain('ckpt.tar.partial');

    const got = await unpackArchive(file, dest, { maxBytes: 64 * MB, sha256: packed.sha256 });
    expect(got).toEqual({ files: 2, bytes: 5 + weights.length });
    expect(tree(dest)).toEqual(['empty/', 'model/', 'model/latest', 'model/layers/', 'model/layers/w.bin', 'step.txt']);
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

  const hostile: [string, (HeaderData & { body?: string })[], RegExp][] = [
    ['an absolute path', [{ path: '/etc/x', type: 'File', body: 'owned' }], /absolute path/],
    ['a .. path', [{ path: '../escape', type: 'File', body: 'owned' }], /"\.\."/],
    ['a .. in the middle', [{ path: 'a/', type: 'Directory' }, { path: 'a/../../b', type: 'File', body: 'owned' }], /"\.\."/],
    ['a symlink to an absolute path', [{ path: 'passwd', type: 'SymbolicLink', linkpath: '/etc/passwd' }], /symlink to "\/etc\/passwd"/],
    ['a symlink climbing out', [{ path: 'd/', type: 'Directory' }, { path: 'd/out', type: 'SymbolicLink', linkpath: '../../out' }], /leads outside/],
    ['a symlink out through another symlink', [{ path: 'here', type: 'SymbolicLink', linkpath: '.' }, { path: 'up', type: 'SymbolicLink', linkpath: 'here/..' }], /leads outside/],
    ['a symlink loop', [{ path: 'a', type: 'SymbolicLink', linkpath: 'b' }, { path: 'b', type: 'SymbolicLink', linkpath: 'a' }], /leads outside/],
    ['a file written through a symlink', [{ path: 'sub/', type: 'Directory' }, { path: 'link', type: 'SymbolicLink', linkpath: 'sub' }, { path: 'link/x', type: 'File', body: 'x' }], /through the symlink "link"/],
    ['a hardlink out', [{ path: 'h', type: 'Link', linkpath: '../../outside.txt' }], /hardlink target/],
    ['a hardlink to an absolute path', [{ path: 'h', type: 'Link', linkpath: '/etc/passwd' }], /absolute path/],
    ['a FIFO', [{ path: 'pipe', type: 'FIFO' }], /is a FIFO/],
    ['a device', [{ path: 'null', type: 'CharacterDevice', devmaj: 1, devmin: 3 }], /is a CharacterDevice/],
    ['a setuid file', [{ path: 'su', type: 'File', mode: 0o4755, body: '#!/bin/sh' }], /setuid/],
    ['the same path twice', [{ path: 'a', type: 'File', body: '1' }, { path: './a', type: 'File', body: '2' }], /appears twice/],
  ];

  it.each(hostile)('refuses %s and leaves the destination untouched', async (_what, entries, why) => {
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
    writeFileSync(file, rawTar([{ path: 'a', type: 'File', body: 'x'.repeat(600) }, { path: 'b', type: 'File', body: 'y'.repeat(600) }]));
    const err = await rejection(unpackArchive(file, dest, { maxBytes: 1000 }));
    expect(err.code).toBe('HOSTILE_ARCHIVE');
    expect(err.message).toMatch(/entry "b" .*limit of 1000 bytes/);
    expect(tree(dest)).toEqual(['keep.txt']);
  });

  it('refuses more than 100k entries', async () => {
    const entries = Array.from({ length: 100_001 }, (_, i) => ({ path: `d${i}/`, type: 'Directory' as const }));
    const file = join(root, 'many.tar');
    writeFileSync(file, rawTar(entries));
    const err = await rejection(unpackArchive(file, dest, { maxBytes: MB }));
    expect(err.code).toBe('HOSTILE_ARCHIVE');
    expect(err.message).toMatch(/100000 entries/);
    expect(tree(dest)).toEqual(['keep.txt']);
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
