// Hand-made archives and checks shared by the tests of checkpoint files and streams.
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Header, type HeaderData } from 'tar';
import { expect } from 'vitest';
import { YardError } from '../../src/core/errors.js';

/**
 * A tar file written header by header, so it can hold what node-tar would never write. It
 * starts as every agent's archive does, with the state dir itself ("./").
 */
export function rawTar(entries: (HeaderData & { body?: string })[]): Buffer {
  const blocks: Buffer[] = [];
  for (const { body = '', ...data } of [{ path: './', type: 'Directory' as const, mode: 0o700 }, ...entries]) {
    const content = Buffer.from(body);
    const h = new Header({ mode: 0o644, mtime: new Date(0), ...data, size: content.length });
    h.encode();
    blocks.push(h.block!, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export async function rejection(p: Promise<unknown>): Promise<YardError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(YardError);
  return err as YardError;
}

/** Every path under `dir`, relative, sorted: to prove nothing appeared or went missing. */
export function tree(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel))
    .flatMap((name) => {
      const path = rel ? `${rel}/${name}` : name;
      return lstatSync(join(dir, path)).isDirectory() ? [`${path}/`, ...tree(dir, path)] : [path];
    })
    .sort();
}

/** Archives a target must refuse: what, the entries after an innocent file, and why. */
export const HOSTILE: [string, (HeaderData & { body?: string })[], RegExp][] = [
  ['an absolute path', [{ path: '/etc/x', type: 'File', body: 'owned' }], /absolute path/],
  ['a .. path', [{ path: '../escape', type: 'File', body: 'owned' }], /"\.\."/],
  [
    'a .. in the middle',
    [
      { path: 'a/', type: 'Directory' },
      { path: 'a/../../b', type: 'File', body: 'owned' },
    ],
    /"\.\."/,
  ],
  [
    'a symlink to an absolute path',
    [{ path: 'passwd', type: 'SymbolicLink', linkpath: '/etc/passwd' }],
    /symlink to "\/etc\/passwd"/,
  ],
  [
    'a symlink climbing out',
    [
      { path: 'd/', type: 'Directory' },
      { path: 'd/out', type: 'SymbolicLink', linkpath: '../../out' },
    ],
    /leads outside/,
  ],
  [
    'a symlink out through another symlink',
    [
      { path: 'here', type: 'SymbolicLink', linkpath: '.' },
      { path: 'up', type: 'SymbolicLink', linkpath: 'here/..' },
    ],
    /leads outside/,
  ],
  [
    'a symlink loop',
    [
      { path: 'a', type: 'SymbolicLink', linkpath: 'b' },
      { path: 'b', type: 'SymbolicLink', linkpath: 'a' },
    ],
    /leads outside/,
  ],
  [
    'a file written through a symlink',
    [
      { path: 'sub/', type: 'Directory' },
      { path: 'link', type: 'SymbolicLink', linkpath: 'sub' },
      { path: 'link/x', type: 'File', body: 'x' },
    ],
    /through the symlink "link"/,
  ],
  ['a hardlink out', [{ path: 'h', type: 'Link', linkpath: '../../outside.txt' }], /hardlink target/],
  ['a hardlink to an absolute path', [{ path: 'h', type: 'Link', linkpath: '/etc/passwd' }], /absolute path/],
  ['a FIFO', [{ path: 'pipe', type: 'FIFO' }], /is a FIFO/],
  ['a device', [{ path: 'null', type: 'CharacterDevice', devmaj: 1, devmin: 3 }], /is a CharacterDevice/],
  ['a setuid file', [{ path: 'su', type: 'File', mode: 0o4755, body: '#!/bin/sh' }], /setuid/],
  [
    'the same path twice',
    [
      { path: 'a', type: 'File', body: '1' },
      { path: './a', type: 'File', body: '2' },
    ],
    /appears twice/,
  ],
  [
    'a symlink over a dir already written into',
    [
      { path: 'd/x', type: 'File', body: 'x' },
      { path: 'd', type: 'SymbolicLink', linkpath: '.' },
    ],
    /where earlier entries need a directory/,
  ],
  [
    'a file written inside a file',
    [
      { path: 'f', type: 'File', body: 'x' },
      { path: 'f/x', type: 'File', body: 'x' },
    ],
    /inside "f", which is not a directory/,
  ],
  [
    'a hardlink to a file that comes later',
    [
      { path: 'h', type: 'Link', linkpath: 'f' },
      { path: 'f', type: 'File', body: 'x' },
    ],
    /not a file earlier in the archive/,
  ],
];
