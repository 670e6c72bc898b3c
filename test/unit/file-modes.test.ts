// Secrets and state stay owner-only even under the common umask 022: a workload's spec (its
// --env values), output, state dir and checkpoint archives, on the agent and in transit through
// the controller. Real workloads in real ptys, a real gRPC server for the transfers.
import { Server, ServerCredentials, credentials } from '@grpc/grpc-js';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { packStateDir } from '../../src/agent/checkpoint/archive.js';
import { ensurePrivateDir } from '../../src/agent/private-dir.js';
import { Transfers } from '../../src/agent/transfer.js';
import { Supervisor } from '../../src/agent/workloads/supervisor.js';
import { CheckpointStore } from '../../src/controller/checkpoints.js';
import { silentLogger } from '../../src/core/log.js';
import { WorkloadState } from '../../src/core/workload.js';
import { AgentGatewayService } from '../../src/gen/switchyard/v1/agent_gateway.js';
import { tempDir, waitFor } from '../helpers/procs.js';
import { workloadSpec } from '../helpers/specs.js';

const MB = 1024 * 1024;
let umaskBefore: number;
let root: string;
const open: Supervisor[] = [];

beforeAll(() => {
  umaskBefore = process.umask(0o022);
});
afterAll(() => {
  process.umask(umaskBefore);
});
beforeEach(() => {
  root = tempDir('yard-modes-');
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  rmSync(root, { recursive: true, force: true });
});

const mode = (path: string) => statSync(path).mode & 0o7777;

/** Every path under `dir` with its permission bits, relative, sorted. */
function modes(dir: string, rel = ''): [string, string][] {
  return readdirSync(join(dir, rel))
    .sort()
    .flatMap((name) => {
      const path = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(dir, path));
      const entry: [string, string] = [st.isDirectory() ? `${path}/` : path, (st.mode & 0o7777).toString(8)];
      return st.isDirectory() ? [entry, ...modes(dir, path)] : [entry];
    });
}

const spec = workloadSpec;

async function supervisor(dataDir: string): Promise<Supervisor> {
  const sup = await Supervisor.open({ dataDir, serverId: 'srv-modes', log: silentLogger });
  open.push(sup);
  return sup;
}

// Saves its step (with the shell's umask 022, so 0644) on SIGUSR1 and exits 0.
const CHECKPOINTING = `#!/bin/sh
step=0
[ "$SWITCHYARD_RESTORE" = 1 ] && step=$(cat "$SWITCHYARD_STATE_DIR/step")
mkdir -p "$SWITCHYARD_STATE_DIR/sub"
trap 'echo "$step" > "$SWITCHYARD_STATE_DIR/step"; echo "$step" > "$SWITCHYARD_STATE_DIR/sub/copy"; exit 0' USR1
echo "ready at $step, token $API_TOKEN, state $SWITCHYARD_STATE_DIR, cwd $(pwd)"
while :; do step=$((step+1)); sleep 0.05; done
`;

describe('owner-only files under umask 022', () => {
  it('a workload run, checkpoint and restore through the supervisor leave nothing group- or world-readable', async () => {
    const dataDir = join(root, 'agent');
    const sh = join(root, 'ckpt.sh');
    writeFileSync(sh, CHECKPOINTING, { mode: 0o755 });
    const sup = await supervisor(dataDir);
    await sup.start(spec('trainer', sh, { env: { API_TOKEN: 'hunter2' } }));
    await waitFor('trainer ready', () => sup.output('trainer').toString().includes('ready at 0'));
    mkdirSync(join(root, 'outbox'));
    const archiveFile = join(root, 'outbox', 'ck.tar');
    const cp = await sup.checkpoint('trainer', { freeze: false, maxBytes: MB, archiveFile });
    expect(sup.get('trainer')?.state).toBe(WorkloadState.WORKLOAD_STATE_CHECKPOINTED);
    expect(mode(archiveFile)).toBe(0o600);
    expect(readFileSync(join(dataDir, 'workloads/trainer/spec.json'), 'utf8')).toContain('hunter2');
    // Its own state dir, also its default cwd: never the agent's data dir, where the agent's key lives.
    const own = join(dataDir, 'workloads/trainer/state');
    expect(sup.output('trainer').toString()).toContain(`state ${own}, cwd ${own}`);

    await sup.installCheckpoint(spec('restored', sh), archiveFile, { sha256: cp.sha256, maxBytes: MB });
    await sup.start(spec('restored', sh), { restore: true });
    await waitFor('restored ready', () => sup.output('restored').toString().includes('ready at'));

    const all = modes(dataDir);
    // The workload's own files inside its state dir keep the workload's umask; the dir is 0700.
    const ours = all.filter(([p]) => p === 'workloads/trainer/state/' || !p.startsWith('workloads/trainer/state/'));
    expect(ours.filter(([p, m]) => (p.endsWith('/') ? m !== '700' : m !== '600'))).toEqual([]);
    expect(ours.map(([p]) => p)).toEqual(
      expect.arrayContaining([
        'workloads/',
        'workloads/trainer/',
        'workloads/trainer/spec.json',
        'workloads/trainer/status.json',
        'workloads/trainer/output.log',
        'workloads/trainer/state/',
        'workloads/restored/state/step',
        'workloads/restored/state/sub/',
        'workloads/restored/state/sub/copy',
      ]),
    );
    expect(mode(dataDir)).toBe(0o700);
  });

  it('tightens what an older version left readable when the supervisor starts', async () => {
    const dataDir = join(root, 'agent');
    const sup = await supervisor(dataDir);
    await sup.start(spec('old', '/bin/true', { env: { API_TOKEN: 'hunter2' } }));
    await waitFor('old exited', () => sup.get('old')?.state === WorkloadState.WORKLOAD_STATE_EXITED);
    await sup.close();
    const w = join(dataDir, 'workloads');
    for (const dir of [w, join(w, 'old'), join(w, 'old/state')]) chmodSync(dir, 0o755);
    for (const file of ['spec.json', 'status.json', 'output.log']) chmodSync(join(w, 'old', file), 0o644);
    writeFileSync(join(w, 'old/output.log.1'), 'older output', { mode: 0o644 });

    await supervisor(dataDir);
    expect(modes(w)).toEqual([
      ['old/', '700'],
      ['old/output.log', '600'],
      ['old/output.log.1', '600'],
      ['old/spec.json', '600'],
      ['old/state/', '700'],
      ['old/status.json', '600'],
    ]);
    expect(mode(w)).toBe(0o700);
  });

  it("makes the agent's data dir 0700, tightens an old one, and leaves a shared sticky dir alone", async () => {
    const fresh = join(root, 'a/b/data');
    await ensurePrivateDir(fresh);
    expect([mode(join(root, 'a')), mode(fresh)]).toEqual([0o700, 0o700]);
    const old = join(root, 'old');
    mkdirSync(old, { mode: 0o755 });
    await ensurePrivateDir(old);
    expect(mode(old)).toBe(0o700);
    const shared = join(root, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    await ensurePrivateDir(shared);
    expect(mode(shared)).toBe(0o1777);
  });

  it('keeps checkpoint archives in transit owner-only on the controller and on the receiving agent', async () => {
    const dir = join(root, 'controller/checkpoints');
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    writeFileSync(join(dir, 'leftover-0001.tar'), 'old archive', { mode: 0o644 });
    const store = new CheckpointStore(dir);
    await store.init();
    expect([mode(dir), mode(join(dir, 'leftover-0001.tar'))]).toEqual([0o700, 0o600]);

    const server = new Server();
    server.addService(AgentGatewayService, {
      uploadCheckpoint: store.upload.bind(store),
      downloadCheckpoint: store.download.bind(store),
    } as never);
    const port = await new Promise<number>((res, rej) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))),
    );
    const transfers = new Transfers(`127.0.0.1:${port}`, { channel: () => credentials.createInsecure(), version: 0 });
    try {
      const src = join(root, 'state');
      mkdirSync(src);
      writeFileSync(join(src, 'weights.bin'), Buffer.alloc(3 * MB + 5, 7));
      const archive = join(root, 'ck.tar');
      const packed = await packStateDir(src, archive, { maxBytes: 8 * MB });
      const id = 'ckpt-modes-0001';
      store.expect(id, 8 * MB);
      await transfers.upload(id, archive, packed.sha256);
      expect(mode(join(dir, `${id}.tar`))).toBe(0o600);
      const received = join(root, 'inbox.tar');
      await transfers.download(id, received, packed.size);
      expect(statSync(received).size).toBe(packed.size);
      expect(mode(received)).toBe(0o600);
    } finally {
      transfers.close();
      server.forceShutdown();
    }
  });
});
