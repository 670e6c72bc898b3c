// A checkpoint of many chunks crosses the controller with one 'drain' wait at a time: the
// embedded dashboard once showed Node's MaxListenersExceededWarning over the screen because
// every chunk queued behind a slow disk added its own listener. Real gRPC server, real files.
import { Server, ServerCredentials, credentials } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Transfers } from '../../src/agent/transfer.js';
import { CheckpointStore } from '../../src/controller/checkpoints.js';
import { AgentGatewayService } from '../../src/gen/switchyard/v1/agent_gateway.js';
import { tempDir } from '../helpers/procs.js';

const MB = 1024 * 1024;
let root: string;
const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);

beforeEach(() => {
  root = tempDir('yard-ckpt-bp-');
  warnings.length = 0;
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
  rmSync(root, { recursive: true, force: true });
});

it('uploads and downloads a 65-chunk checkpoint without piling up drain listeners', async () => {
  const dir = join(root, 'controller/checkpoints');
  mkdirSync(dir, { recursive: true });
  const store = new CheckpointStore(dir);
  await store.init();
  const server = new Server({ 'grpc-node.flow_control_window': 64 * MB } as never);
  server.addService(AgentGatewayService, {
    uploadCheckpoint: store.upload.bind(store),
    downloadCheckpoint: store.download.bind(store),
  } as never);
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))),
  );
  const transfers = new Transfers(`127.0.0.1:${port}`, { channel: () => credentials.createInsecure(), version: 0 });
  try {
    const data = Buffer.alloc(64 * MB + 11);
    for (let i = 0; i < data.length; i += 4096) data[i] = i % 251;
    const archive = join(root, 'ck.tar');
    writeFileSync(archive, data);
    const sha256 = createHash('sha256').update(data).digest('hex');
    const id = 'ckpt-bp-0001';
    store.expect(id, 80 * MB);
    // A resumed upload: while the controller rehashes what it already holds, chunks queue up.
    writeFileSync(join(dir, `${id}.tar.part`), data.subarray(0, 40 * MB));
    const res = await transfers.upload(id, archive, sha256);
    expect(res).toEqual({ size: data.length, sha256 });
    const received = join(root, 'inbox.tar');
    await transfers.download(id, received, data.length);
    expect(createHash('sha256').update(readFileSync(received)).digest('hex')).toBe(sha256);
    await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
  } finally {
    transfers.close();
    server.forceShutdown();
  }
}, 60_000);
