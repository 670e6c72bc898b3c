// Pre-copy (issue 13): a state dir staged on the target in rounds of content-addressed chunks,
// over the agents' real TLS transfer port, then sealed; only changed chunks move in later rounds.
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchStateFromPeer, PeerTransferServer, type PeerTls } from '../../src/agent/peer-transfer.js';
import { CHUNK_BYTES, type Manifest, StateScanner } from '../../src/agent/precopy/manifest.js';
import { StagedState } from '../../src/agent/precopy/stage.js';
import { TicketBook } from '../../src/controller/migration/tickets.js';
import { YardError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import { tempDir } from '../helpers/procs.js';
import { agentCredential, newCa } from './pki-fixture.js';

/** Every path under `dir` with its kind and content (or link target), to compare two trees. */
function tree(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const path = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(dir, path));
    if (st.isSymbolicLink()) out[path] = `link:${readlinkSync(join(dir, path))}`;
    else if (st.isDirectory()) {
      out[path] = `dir:${(st.mode & 0o777).toString(8)}`;
      Object.assign(out, tree(dir, path));
    } else
      out[path] = `file:${(st.mode & 0o777).toString(8)}:${createHash('sha256')
        .update(readFileSync(join(dir, path)))
        .digest('hex')}`;
  }
  return out;
}

/** Makes mtimes old enough that the scanner may remember the files' chunks. */
function settle(dir: string): void {
  const past = new Date(Date.now() - 60_000);
  const visit = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (lstatSync(p).isSymbolicLink()) continue;
      if (lstatSync(p).isDirectory()) visit(p);
      else utimesSync(p, past, past);
    }
  };
  visit(dir);
}

describe('pre-copy of a state dir between two agents', () => {
  const root = tempDir('yard-precopy-');
  const src = join(root, 'src');
  let source: PeerTls;
  let target: PeerTls;
  let stranger: PeerTls;
  let server: PeerTransferServer;
  let address: string;
  const book = new TicketBook();
  const scanner = new StateScanner(src, 1 << 30);

  beforeAll(async () => {
    mkdirSync(join(src, 'weights'), { recursive: true });
    writeFileSync(join(src, 'weights', 'model.bin'), randomBytes(3 * CHUNK_BYTES + 12345));
    writeFileSync(join(src, 'step.json'), '{"step":1}');
    writeFileSync(join(src, 'empty'), '');
    symlinkSync('weights/model.bin', join(src, 'latest'));
    settle(src);
    const { ca } = await newCa();
    const pems = async (id: string) => ({ caPem: ca.certPem, ...(await agentCredential(ca, id)) });
    source = await pems('srv-src');
    target = await pems('srv-dst');
    stranger = await pems('srv-other');
    server = new PeerTransferServer({ tls: () => source, serverId: 'srv-src', log: silentLogger });
    address = await server.listen('127.0.0.1:0');
  });
  afterAll(() => server?.close());

  const offer = (checkpointId: string) => {
    const { secret, ticket } = book.issue({ checkpointId, sourceServerId: 'srv-src', targetServerId: 'srv-dst' });
    server.offer({
      ticket,
      size: 0,
      sha256: '',
      open: () => {
        throw new Error('not an archive');
      },
      state: { manifest: () => scanner.scan(), read: (w) => scanner.read(w) },
    });
    return secret;
  };

  /** One round as the target agent runs it. */
  const round = async (stage: StagedState, secret: string, checkpointId: string, final: boolean, tls = target) => {
    const peer = await fetchStateFromPeer({ address, sourceServerId: 'srv-src', tls, secret, checkpointId });
    try {
      const m = stage.check(peer.manifest);
      stage.moved = 0;
      const wanted = stage.wanted(m);
      await stage.apply(peer, wanted, final);
      return { wanted: wanted.length, moved: stage.moved, digest: final ? await stage.seal(m) : '' };
    } finally {
      peer.close();
    }
  };

  it('copies the whole dir in the first round and only the changed chunk in the next', async () => {
    const secret = offer('pc-1');
    const stage = new StagedState(join(root, 'stage-1'), { maxBytes: 1 << 30, sender: 'server srv-src' });
    const first = await round(stage, secret, 'pc-1', false);
    expect(first.wanted).toBe(4 + 1); // model.bin in 4 chunks, step.json in 1 (empty has none)
    expect(first.moved).toBe(3 * CHUNK_BYTES + 12345 + 10);

    // The workload saves: one chunk of the weights and its step change.
    const model = readFileSync(join(src, 'weights', 'model.bin'));
    randomBytes(1000).copy(model, CHUNK_BYTES + 7);
    writeFileSync(join(src, 'weights', 'model.bin'), model);
    writeFileSync(join(src, 'step.json'), '{"step":2}');
    const hashedBefore = scanner.hashedBytes;
    const last = await round(stage, secret, 'pc-1', true);
    expect(last.wanted).toBe(2);
    expect(last.moved).toBe(CHUNK_BYTES + 10);
    // Only the changed files were hashed again.
    expect(scanner.hashedBytes - hashedBefore).toBe(model.length + 10);
    expect(last.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(tree(stage.dir)).toEqual(tree(src));
  });

  it('follows files that were removed, shrunk or turned into dirs between rounds', async () => {
    const dir = join(root, 'src2');
    const local = new StateScanner(dir, 1 << 30);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a'), randomBytes(CHUNK_BYTES + 5));
    writeFileSync(join(dir, 'b'), 'bye');
    const stage = new StagedState(join(root, 'stage-2'), { maxBytes: 1 << 30, sender: 'test' });
    const pass = async (final: boolean) => {
      const m = stage.check(await local.scan());
      await stage.apply({ manifest: m, chunks: (w) => local.read(w) }, stage.wanted(m), final);
      if (final) await stage.seal(m);
    };
    await pass(false);
    writeFileSync(join(dir, 'a'), randomBytes(100));
    rmSync(join(dir, 'b'));
    mkdirSync(join(dir, 'b'));
    writeFileSync(join(dir, 'b', 'c'), 'in a dir now');
    await pass(true);
    expect(tree(stage.dir)).toEqual(tree(dir));
  });

  it('refuses a last round whose chunk is not the one its manifest names', async () => {
    const stage = new StagedState(join(root, 'stage-3'), { maxBytes: 1 << 30, sender: 'server srv-src' });
    const m = stage.check(await scanner.scan());
    // The file changes between the manifest and the read (or a byte flips on the way).
    writeFileSync(join(src, 'step.json'), '{"step":3}');
    const err = await stage
      .apply({ manifest: m, chunks: (w) => scanner.read(w) }, stage.wanted(m), true)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(YardError);
    expect((err as YardError).code).toBe('CHECKSUM_MISMATCH');
    expect((err as YardError).message).toContain('step.json');
  });

  it('checks a manifest as strictly as an archive', () => {
    const stage = new StagedState(join(root, 'stage-4'), { maxBytes: 1000, sender: 'server evil' });
    const manifest = (entries: Manifest['entries'], bytes = 0): Manifest => ({
      v: 1,
      chunkBytes: CHUNK_BYTES,
      entries,
      bytes,
    });
    const code = (m: Manifest) => {
      try {
        stage.check(m);
        return 'accepted';
      } catch (e) {
        return (e as YardError).code;
      }
    };
    const hash = 'a'.repeat(64);
    expect(code(manifest([{ path: '../x', type: 'File', mode: 0o600, size: 1, chunks: [hash] }], 1))).toBe(
      'HOSTILE_ARCHIVE',
    );
    expect(code(manifest([{ path: 'l', type: 'SymbolicLink', mode: 0o777, size: 0, linkpath: '/etc' }]))).toBe(
      'HOSTILE_ARCHIVE',
    );
    expect(code(manifest([{ path: 'x', type: 'File', mode: 0o4755, size: 1, chunks: [hash] }], 1))).toBe(
      'HOSTILE_ARCHIVE',
    );
    expect(code(manifest([{ path: 'x', type: 'File', mode: 0o600, size: 1, chunks: [] }], 1))).toBe('BAD_ARCHIVE');
    expect(code(manifest([{ path: 'x', type: 'File', mode: 0o600, size: 1, chunks: [hash] }], 7))).toBe('BAD_ARCHIVE');
    expect(code(manifest([{ path: 'x', type: 'File', mode: 0o600, size: 2000, chunks: [hash] }], 2000))).toBe(
      'CHECKPOINT_TOO_LARGE',
    );
    expect(code(manifest([{ path: 'x', type: 'File', mode: 0o600, size: 1, chunks: [hash] }], 1))).toBe('accepted');
    expect(existsSync(stage.dir)).toBe(false);
  });

  it('serves the state only to the target its ticket names, and no archive under that ticket', async () => {
    const secret = offer('pc-5');
    await expect(
      fetchStateFromPeer({ address, sourceServerId: 'srv-src', tls: stranger, secret, checkpointId: 'pc-5' }),
    ).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(
      fetchStateFromPeer({ address, sourceServerId: 'srv-src', tls: target, secret: 'guess', checkpointId: 'pc-5' }),
    ).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    const { fetchFromPeer } = await import('../../src/agent/peer-transfer.js');
    await expect(
      fetchFromPeer({ address, sourceServerId: 'srv-src', tls: target, secret, checkpointId: 'pc-5', offset: 0 }),
    ).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
  });

  it('never reads a path that is not in the last manifest', async () => {
    await scanner.scan();
    expect(() => scanner.read([['../../etc/passwd', 0]])).toThrow(/no chunk 0/);
    expect(() => scanner.read([['step.json', -1]])).toThrow(/no chunk -1/);
  });
});
