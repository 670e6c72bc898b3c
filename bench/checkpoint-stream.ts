// Micro-benchmark of a checkpoint moved over one TCP connection on 127.0.0.1, four ways, with
// the receiver in its own process (as the target agent is) and the same state dir each time:
//   tls     the direct transfer's code: packToStream offered by a PeerTransferServer, pulled with
//           fetchFromPeer over mTLS into a ResumableReceiver (unpack as it arrives, sha256 checked)
//   stream  packToStream → socket → unpackFromStream (sha256 sent after the last byte)
//   file    today's path: packStateDir to a file, the file copied over the socket into a file,
//           unpackArchive of that file, one after the other
//   plain   the archive's bytes copied over the socket and thrown away: what the link can do
// Not part of `npm run bench`; run by hand after `npm run build`:
//   node dist/bench/checkpoint-stream.js [--mb 200] [--runs 3] [--only tls,stream,file,plain]
// With node --cpu-prof, both processes write a profile (the receiver inherits the flag).
import { type ChildProcess, fork } from 'node:child_process';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  mkdirSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { packStateDir, unpackArchive } from '../src/agent/checkpoint/archive.js';
import { packToStream } from '../src/agent/checkpoint/pack-stream.js';
import { ResumableReceiver } from '../src/agent/checkpoint/resume.js';
import { unpackFromStream } from '../src/agent/checkpoint/unpack.js';
import { fetchFromPeer, type PeerTls, PeerTransferServer } from '../src/agent/peer-transfer.js';
import { TicketBook } from '../src/controller/migration/tickets.js';
import { silentLogger } from '../src/core/log.js';
import { removeTempDirs, tempDir } from './lib.js';
import { peerCredentials } from './peer-creds.js';

const MB = 1024 * 1024;

/** What the receiver does with the next connection. */
type Order =
  | { mode: 'plain'; bytes: number }
  | { mode: 'stream'; dest: string; maxBytes: number }
  | {
      mode: 'tls';
      dest: string;
      maxBytes: number;
      address: string;
      tls: PeerTls;
      secret: string;
      checkpointId: string;
      size: number;
      sha256: string;
    }
  | { mode: 'file'; file: string; dest: string; maxBytes: number; sha256: string };

type Reply = { port: number } | { ready: true } | { done: true; copiedMs?: number; cpuMs: number } | { failed: string };

if (process.argv[2] === 'receiver') receiver();
else await main();

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mb: { type: 'string', default: '200' },
      runs: { type: 'string', default: '3' },
      only: { type: 'string', default: 'tls,stream,file,plain' },
    },
  });
  const mb = Number(values.mb);
  const runs = Number(values.runs);
  const only = new Set(values.only.split(','));
  const root = tempDir('yard-bench-ckstream-');
  const child = fork(import.meta.filename, ['receiver'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const src = join(root, 'src');
    makeStateDir(src, mb);
    const archive = join(root, 'ckpt.tar');
    const { size, sha256 } = await packStateDir(src, archive, { maxBytes: 4 * mb * MB });
    const { port } = (await ask(child, undefined)) as { port: number };
    console.log(
      `state dir ${mb} MB, archive ${(size / MB).toFixed(1)} MB, ${runs} runs each, receiver pid ${child.pid}`,
    );
    const dest = join(root, 'target', 'state');
    const rate = (ms: number) => `${(size / MB / (ms / 1000)).toFixed(0)} MB/s`;
    // CPU per run (user + system, all threads) of each process, to tell work from waiting.
    let cpu = { sender: 0, receiver: 0 };
    const cpuSince = (start: NodeJS.CpuUsage, reply: Reply) => {
      const used = process.cpuUsage(start);
      cpu.sender += (used.user + used.system) / 1000;
      cpu.receiver += 'cpuMs' in reply ? reply.cpuMs : 0;
    };
    const report = (what: string, times: number[], extra = '') => {
      const sorted = [...times].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      const perRun = (ms: number) => (ms / times.length).toFixed(0);
      console.log(
        `${what.padEnd(7)} median ${median.toFixed(0)} ms = ${rate(median)}  (runs: ${times.map((t) => t.toFixed(0)).join(', ')} ms; CPU per run: sender ${perRun(cpu.sender)} ms, receiver ${perRun(cpu.receiver)} ms)${extra}`,
      );
      cpu = { sender: 0, receiver: 0 };
      return median;
    };
    const medians: Record<string, number> = {};

    if (only.has('plain')) {
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        await ask(child, { mode: 'plain', bytes: size });
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const sock = await open(port);
        const done = ask(child, undefined);
        await pipeline(createReadStream(archive, { highWaterMark: MB }), sock);
        cpuSince(c0, await done);
        times.push(performance.now() - t0);
      }
      medians.plain = report('plain', times);
    }

    if (only.has('tls')) {
      const creds = await peerCredentials({ source: 'bench-src', target: 'bench-dst' });
      const server = new PeerTransferServer({ tls: () => creds.source, serverId: 'bench-src', log: silentLogger });
      const book = new TicketBook();
      const address = await server.listen('127.0.0.1:0');
      try {
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          const checkpointId = `bench-ckpt-${i}`;
          const { secret, ticket } = book.issue({
            checkpointId,
            sourceServerId: 'bench-src',
            targetServerId: 'bench-dst',
          });
          // Packed as it is pulled: the offer's bytes are the packer's stream (the agent offers a
          // packed file today; this is the pipelined path pack → TLS → unpack).
          const packing = await packToStream(src, { maxBytes: 4 * mb * MB });
          server.offer({
            ticket,
            size,
            sha256,
            open: (offset) => {
              if (offset !== 0) throw new Error('the bench serves each transfer from its start only');
              return packing.stream;
            },
          });
          await ask(child, {
            mode: 'tls',
            dest,
            maxBytes: 4 * mb * MB,
            address,
            tls: creds.target,
            secret,
            checkpointId,
            size,
            sha256,
          });
          const t0 = performance.now();
          const c0 = process.cpuUsage();
          child.send({ go: true });
          const reply = await ask(child, undefined);
          cpuSince(c0, reply);
          times.push(performance.now() - t0);
          if ((await packing.result).sha256 !== sha256)
            throw new Error('the served archive differs from the packed one');
          server.withdraw(ticket.digest);
        }
        medians.tls = report('tls', times);
      } finally {
        await server.close();
      }
    }

    if (only.has('stream')) {
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        await ask(child, { mode: 'stream', dest, maxBytes: 4 * mb * MB });
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const packing = await packToStream(src, { maxBytes: 4 * mb * MB });
        const sock = await open(port);
        const done = ask(child, undefined);
        await pipeline(packing.stream, sock);
        const result = await packing.result;
        if (result.sha256 !== sha256) throw new Error('the streamed archive differs from the packed one');
        child.send({ trailer: result.sha256 });
        cpuSince(c0, await done);
        times.push(performance.now() - t0);
      }
      medians.stream = report('stream', times);
    }

    if (only.has('file')) {
      const times: number[] = [];
      const parts: string[] = [];
      for (let i = 0; i < runs; i++) {
        const inbox = join(root, 'target', 'inbox.tar');
        await ask(child, { mode: 'file', file: inbox, dest, maxBytes: 4 * mb * MB, sha256 });
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const out = join(root, 'out.tar');
        await packStateDir(src, out, { maxBytes: 4 * mb * MB });
        const t1 = performance.now();
        const sock = await open(port);
        const done = ask(child, undefined);
        await pipeline(createReadStream(out, { highWaterMark: MB }), sock);
        const reply = await done;
        cpuSince(c0, reply);
        const copiedMs = 'copiedMs' in reply ? (reply.copiedMs ?? 0) : 0;
        const t3 = performance.now();
        times.push(t3 - t0);
        const t2 = t1 + copiedMs;
        parts.push(`pack ${(t1 - t0).toFixed(0)} + copy ${(t2 - t1).toFixed(0)} + unpack ${(t3 - t2).toFixed(0)} ms`);
      }
      medians.file = report('file', times, `\n        ${parts.join('\n        ')}`);
    }

    for (const mode of ['tls', 'stream'])
      if (medians.plain && medians[mode])
        console.log(`${mode} is ${((100 * medians.plain) / medians[mode]).toFixed(0)} % of the plain copy's rate`);
    if (medians.file && medians.stream)
      console.log(`stream is ${(medians.file / medians.stream).toFixed(2)}x today's file path`);
  } finally {
    // A clean exit, so that under --cpu-prof the receiver writes its profile too.
    const exited = once(child, 'exit');
    child.disconnect();
    const timer = setTimeout(() => child.kill(), 10_000);
    await exited;
    clearTimeout(timer);
    removeTempDirs();
  }
}

/** `mb` MB in four big files (weights) and 200 small ones, bytes that do not repeat. */
function makeStateDir(dir: string, mb: number): void {
  mkdirSync(join(dir, 'weights'), { recursive: true });
  mkdirSync(join(dir, 'steps'), { recursive: true });
  const block = Buffer.alloc(MB);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);
  const big = Math.floor((mb * 0.9) / 4);
  for (let f = 0; f < 4; f++) {
    const fd = openSync(join(dir, 'weights', `shard-${f}.bin`), 'w');
    for (let i = 0; i < big; i++) {
      block.writeUInt32LE(f * 1_000_000 + i, 0);
      writeSync(fd, block);
    }
    closeSync(fd);
  }
  const count = 200;
  const each = Math.floor(((mb - 4 * big) * MB) / count);
  for (let i = 0; i < count; i++) {
    block.writeUInt32LE(i, 0);
    writeFileSync(join(dir, 'steps', `step-${i}.bin`), block.subarray(0, each));
  }
}

async function open(port: number): Promise<Socket> {
  const sock = connect(port, '127.0.0.1');
  await once(sock, 'connect');
  return sock;
}

/** Sends `order` (if any) and waits for the receiver's next reply. */
async function ask(child: ChildProcess, order: Order | undefined): Promise<Reply> {
  const reply = once(child, 'message') as Promise<[Reply]>;
  if (order) child.send(order);
  const [r] = await reply;
  if ('failed' in r) throw new Error(`receiver: ${r.failed}`);
  return r;
}

/** The target's end: one connection per order, each answered when it is done. */
function receiver(): void {
  const send = (r: Reply) => process.send?.(r);
  let order: Order | undefined;
  let trailer: ((sha256: string) => void) | undefined;
  let cpuStart = process.cpuUsage();
  process.on('message', (m: Order | { trailer: string } | { go: true }) => {
    if ('trailer' in m) return trailer?.(m.trailer);
    if ('go' in m) return void pull(order);
    order = m;
    if (m.mode !== 'plain') rmSync(m.dest, { recursive: true, force: true });
    cpuStart = process.cpuUsage();
    if (m.mode === 'tls') return void send({ ready: true });
    if (m.mode === 'file') mkdirSync(join(m.file, '..'), { recursive: true });
    send({ ready: true });
  });
  const finish = (p: Promise<unknown>) =>
    p.then(
      (copiedMs) => {
        const used = process.cpuUsage(cpuStart);
        const cpuMs = (used.user + used.system) / 1000;
        send({ done: true, copiedMs: typeof copiedMs === 'number' ? copiedMs : undefined, cpuMs });
      },
      (err: unknown) => send({ failed: err instanceof Error ? err.message : String(err) }),
    );
  // The target agent's pull: fetchFromPeer over mTLS into a ResumableReceiver, as commands.ts does.
  const pull = (o: Order | undefined) => {
    order = undefined;
    if (o?.mode !== 'tls') return void send({ failed: 'no tls order to pull' });
    cpuStart = process.cpuUsage();
    const rx = new ResumableReceiver(o.dest, { maxBytes: o.maxBytes, sender: 'bench' });
    rx.complete({ size: o.size, sha256: o.sha256 });
    const received = async () => {
      const got = await fetchFromPeer({ ...o, sourceServerId: 'bench-src', offset: 0 });
      await rx.attach(got.body);
      return rx.done;
    };
    void finish(received());
  };
  const server = createServer((sock) => {
    const now = order;
    order = undefined;
    if (!now || now.mode === 'tls') return void sock.destroy();
    if (now.mode === 'plain') {
      let got = 0;
      sock.on('data', (d: Buffer) => {
        got += d.length;
      });
      void finish(
        once(sock, 'end').then(() => (got === now.bytes ? undefined : Promise.reject(new Error(`${got} bytes`)))),
      );
    } else if (now.mode === 'file') {
      const t0 = performance.now();
      const copyThenUnpack = async () => {
        await pipeline(sock, createWriteStream(now.file, { mode: 0o600 }));
        const copiedMs = performance.now() - t0;
        await unpackArchive(now.file, now.dest, { maxBytes: now.maxBytes, sha256: now.sha256 });
        return copiedMs;
      };
      void finish(copyThenUnpack());
    } else {
      const sha256 = new Promise<string>((resolve) => {
        trailer = resolve;
      });
      void finish(unpackFromStream(sock, now.dest, { maxBytes: now.maxBytes, sha256, sender: 'bench' }));
    }
  });
  server.listen(0, '127.0.0.1', () => send({ port: (server.address() as { port: number }).port }));
  server.unref(); // the receiver ends when the bench disconnects
}
