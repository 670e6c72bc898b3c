// A checkpoint that crosses several connections: the source packs onto the first, keeping a
// copy; each time the connection is cut (cleanly or by a reset) the receiver reconnects and asks
// for the archive from the bytes it already has, and the same unpack goes on. Real TCP sockets
// on localhost, real files; the cuts fall at random offsets (the seed is in the test name).
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PackResult } from '../../src/agent/checkpoint/archive.js';
import { type PackingStream, packToStream, readKept } from '../../src/agent/checkpoint/pack-stream.js';
import { ResumableReceiver } from '../../src/agent/checkpoint/resume.js';
import { tempDir } from '../helpers/procs.js';
import { rejection, tree } from './checkpoint-fixture.js';

const MB = 1024 * 1024;
const SEED = Date.now() % 100_000;

/** A small seeded generator, so a failing set of cuts can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

/** How a source misbehaves on reconnects: serves from `offset + shift`, or flips the byte at `flip`. */
interface Tamper {
  shift?: number;
  flip?: number;
}

interface Source {
  port: number;
  server: Server;
  /** Offsets each connection asked for, in order. */
  asked: number[];
}

/**
 * The source's side of the wire: a connection sends the offset it wants (8 bytes), and gets
 * the archive from there, the first live from the packer, later ones from the kept file, until
 * the next cut.
 */
async function source(
  packing: PackingStream,
  keep: string,
  cuts: { at: number; reset: boolean }[],
  tamper: Tamper = {},
): Promise<Source> {
  let live = true;
  let finished = false;
  packing.result.then(
    () => (finished = true),
    () => {},
  );
  const asked: number[] = [];
  const server = createServer((sock) => {
    sock.on('error', () => {});
    sock.once('readable', () => {
      const head = sock.read(8) as Buffer | null;
      if (!head) return void sock.destroy();
      const offset = Number(head.readBigUInt64BE());
      asked.push(offset);
      const first = live;
      live = false;
      const from = first ? offset : offset + (tamper.shift ?? 0);
      const stream = first ? packing.stream : finished ? readKept(keep, from) : packing.from(from);
      void serve(sock, stream, from, cuts, first ? undefined : tamper.flip);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { port: address.port, server, asked };
}

async function serve(
  sock: Socket,
  stream: Readable,
  offset: number,
  cuts: { at: number; reset: boolean }[],
  flip?: number,
) {
  let pos = offset;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (flip !== undefined && flip >= pos && flip < pos + chunk.length) {
        chunk[flip - pos] = chunk[flip - pos]! ^ 0x01;
      }
      const i = cuts.findIndex((c) => c.at > pos && c.at <= pos + chunk.length);
      const cut = i >= 0 ? cuts.splice(i, 1)[0] : undefined;
      const part = cut ? chunk.subarray(0, cut.at - pos) : chunk;
      if (!sock.write(part)) await once(sock, 'drain');
      pos += part.length;
      if (cut) {
        // Leaving the loop destroys the stream: a live one goes on packing into the kept file.
        if (cut.reset) sock.resetAndDestroy();
        else sock.end();
        return;
      }
    }
    sock.end();
  } catch {
    sock.destroy();
  }
}

/** The target's side: connect, ask for the bytes from `received`, feed them to the receiver. */
async function receive(receiver: ResumableReceiver, port: number, whole: () => boolean): Promise<number> {
  let connections = 0;
  while (!whole()) {
    if (++connections > 50) throw new Error('too many connections');
    const sock = connect(port, '127.0.0.1');
    await once(sock, 'connect');
    const head = Buffer.alloc(8);
    head.writeBigUInt64BE(BigInt(receiver.received));
    sock.write(head);
    await receiver.attach(sock);
  }
  return connections;
}

describe('a checkpoint stream resumed after dropped connections', () => {
  let root: string;
  let src: string;
  let dest: string;
  let servers: Server[];

  beforeEach(() => {
    root = tempDir('yard-ckresume-');
    src = join(root, 'src');
    dest = join(root, 'host', 'state');
    servers = [];
    mkdirSync(join(src, 'model/layers'), { recursive: true });
    writeFileSync(join(src, 'step.txt'), '4242\n');
    writeFileSync(join(src, 'empty.bin'), '');
    writeFileSync(
      join(src, 'model/layers/w.bin'),
      Buffer.alloc(12 * MB).map((_, i) => (i * 7 + (i >> 9)) % 251),
    );
    for (let i = 0; i < 40; i++) writeFileSync(join(src, 'model', `small-${i}.json`), `{"i":${i}}`.repeat(i * 30));
    symlinkSync('layers/w.bin', join(src, 'model/latest'));
    mkdirSync(dest, { recursive: true });
    writeFileSync(join(dest, 'keep.txt'), 'pre-existing');
  });

  afterEach(() => {
    for (const s of servers) s.close();
    rmSync(root, { recursive: true, force: true });
  });

  function expectSameTree(): void {
    expect(tree(dest)).toEqual(tree(src));
    for (const path of tree(src)) {
      const was = lstatSync(join(src, path));
      if (was.isSymbolicLink()) expect(readlinkSync(join(dest, path))).toBe(readlinkSync(join(src, path)));
      else if (was.isFile()) expect(readFileSync(join(dest, path)).equals(readFileSync(join(src, path)))).toBe(true);
    }
  }

  for (const round of [0, 1, 2]) {
    it(`ends byte-identical after cuts at random offsets (seed ${SEED + round})`, async () => {
      const rand = random(SEED + round);
      const roughSize = 12 * MB + 40 * 1024;
      const cuts = Array.from({ length: 5 }, () => ({ at: 1 + Math.floor(rand() * roughSize), reset: rand() < 0.5 }));
      const keep = join(root, 'kept.tar');
      const packing = await packToStream(src, { maxBytes: 64 * MB, keep });
      const { port, server, asked } = await source(packing, keep, [...cuts]);
      servers.push(server);

      const receiver = new ResumableReceiver(dest, { maxBytes: 64 * MB, sender: 'source' });
      let expected: PackResult | undefined;
      // The sender's trailer: its size and sha256, known once it has packed the last byte.
      void packing.result.then((r) => {
        expected = r;
        receiver.complete(r);
      });
      const connections = await receive(receiver, port, () => expected?.size === receiver.received);
      const got = await receiver.done;

      expect(connections).toBeGreaterThan(1);
      expect(asked[0]).toBe(0);
      expect(asked).toEqual([...asked].sort((a, b) => a - b));
      expect(got.files).toBe(43);
      expectSameTree();
      const kept = readFileSync(keep);
      expect(createHash('sha256').update(kept).digest('hex')).toBe(expected?.sha256);
      expect(receiver.received).toBe(kept.length);
      expect(readFileSync(join(root, 'host', 'state', 'model/layers/w.bin')).length).toBe(12 * MB);
    }, 30_000);
  }

  /** One transfer with a cut at 6 MB, the reconnect served by `tamper`ed rules. */
  async function transfer(tamper: Tamper): Promise<Promise<unknown>> {
    const keep = join(root, 'kept.tar');
    const packing = await packToStream(src, { maxBytes: 64 * MB, keep });
    const { port, server } = await source(packing, keep, [{ at: 6 * MB + 3, reset: false }], tamper);
    servers.push(server);
    const receiver = new ResumableReceiver(dest, { maxBytes: 64 * MB });
    let expected: PackResult | undefined;
    void packing.result.then((r) => {
      expected = r;
      receiver.complete(r);
    });
    const receiving = receive(receiver, port, () => expected?.size === receiver.received);
    return Promise.all([receiving, receiver.done]);
  }

  it('fails the checksum when a resumed byte is damaged, leaving the destination alone', async () => {
    const err = await rejection(transfer({ flip: 7 * MB }));
    expect(err.code).toBe('CHECKSUM_MISMATCH');
    expect(tree(dest)).toEqual(['keep.txt']);
    expect(tree(join(root, 'host'))).toEqual(['state/', 'state/keep.txt']);
  }, 30_000);

  it('refuses a resume served from the wrong offset: more bytes than the sender announced', async () => {
    const err = await rejection(transfer({ shift: -1 }));
    expect(err.code).toBe('BAD_ARCHIVE');
    expect(err.message).toMatch(/past the \d+ bytes its sender announced/);
    expect(tree(dest)).toEqual(['keep.txt']);
    expect(tree(join(root, 'host'))).toEqual(['state/', 'state/keep.txt']);
  }, 30_000);
});
