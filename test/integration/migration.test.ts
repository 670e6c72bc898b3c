import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationStrategy, RestartPolicy, migrationPhases, workloadStates, type WorkloadSpec } from '../../src/core/workload.js';
import { control } from '../helpers/control.js';
import { assertBuilt, freePort, runYard, startAgentProc, startControllerProc, tempDir, waitFor, type YardProcess } from '../helpers/procs.js';

const COUNTER = resolve(import.meta.dirname, '../../examples/checkpoint-counter.mjs');

function spec(name: string, over: Partial<WorkloadSpec> = {}): WorkloadSpec {
  return {
    name, command: process.execPath, args: [COUNTER], env: {}, cwd: '', labels: {}, restart: RestartPolicy.RESTART_POLICY_NEVER,
    strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT, checkpointSignal: 'SIGUSR1', checkpointTimeoutMs: 10_000, ports: [], ...over,
  };
}

/** A shell workload for fault cases: saves on SIGUSR1; `failOn` makes it misbehave on one host. */
function shellSpec(name: string, script: string, over: Partial<WorkloadSpec> = {}): WorkloadSpec {
  return spec(name, { command: '/bin/sh', args: ['-c', script], ...over });
}

/**
 * Migrations between real agents (separate processes and data dirs) through a real
 * controller, proving DESIGN.md's invariants: state arrives exactly; any failure leaves the
 * workload running on exactly one host, restored from the same checkpoint.
 */
describe('migration between real agents', () => {
  let port: number;
  let address: string;
  let controller: YardProcess;
  const ctlDir = tempDir('yard-mig-ctl-');
  const dirs = { a: tempDir('yard-agent-a-'), b: tempDir('yard-agent-b-') };
  const agents: Record<'a' | 'b', YardProcess | undefined> = { a: undefined, b: undefined };
  let api: ReturnType<typeof control>;

  const startAgent = (host: 'a' | 'b') => {
    agents[host] = startAgentProc(address, dirs[host], ['--name', `host-${host}`, '--nvidia-smi', '/nonexistent/nvidia-smi']);
  };
  const startCtl = () => {
    controller = startControllerProc(ctlDir, port, ['--verify', '1500ms', '--grace', '20s', '--cpu-limit', '100']);
    return controller.waitForOutput(/controller listening/);
  };
  const serverId = async (name: string) => {
    const r = await runYard(['servers', '--json', '--controller', address, '--data-dir', ctlDir]);
    return (JSON.parse(r.stdout) as { id: string; name: string }[]).find((s) => s.name === name)!.id;
  };
  const logsOf = (name: string) => api.logs(name);
  const run = (s: WorkloadSpec, server = 'host-a') => api.call(api.client.runWorkload, { server, spec: s });
  const migrate = (workload: string, strategy = MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT, target = 'host-b') =>
    api.call(api.client.startMigration, { workload, target, strategy }).then((r) => r.migration!);
  const waitRunning = (name: string, host: string) =>
    waitFor(`${name} running on ${host}`, async () => {
      const id = await serverId(host);
      const live = await api.liveInstances(name);
      return live.length === 1 && live[0]!.serverId === id && workloadStates.name(live[0]!.state) === 'running' ? live[0] : undefined;
    }, 30_000, 200);

  beforeAll(async () => {
    assertBuilt();
    port = await freePort();
    address = `127.0.0.1:${port}`;
    await startCtl();
    startAgent('a');
    startAgent('b');
    api = control(address);
    await waitFor('both agents online', async () => {
      const r = await runYard(['servers', '--json', '--controller', address, '--data-dir', ctlDir]);
      const l = JSON.parse(r.stdout) as { state: string }[];
      return l.length === 2 && l.every((s) => s.state === 'online') ? true : undefined;
    });
  });

  afterAll(async () => {
    api?.close();
    await Promise.all([agents.a?.kill('SIGKILL'), agents.b?.kill('SIGKILL'), controller?.kill('SIGKILL')]);
  });

  it('moves the example job with its state: it resumes on the target where it stopped, checksums match', async () => {
    await run(spec('counter'));
    await waitFor('counter making progress', async () => /progress n=\d+/.test(await logsOf('counter')) || undefined);
    const m = await migrate('counter');
    const done = await api.waitForMigrationEnd(m.id);
    expect(migrationPhases.name(done.phase)).toBe('committed');
    expect(done.error).toBe('');
    expect(done.checkpointSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(done.timings?.transferBytes).toBeGreaterThan(0);
    for (const t of ['checkpointMs', 'transferMs', 'restoreMs', 'downtimeMs'] as const) expect(done.timings?.[t]).toBeGreaterThanOrEqual(0);
    const onB = await waitRunning('counter', 'host-b');
    expect(onB.restored).toBe(true);
    // The example verifies its own checksum on restore and exits 2 if the state is not exact.
    await waitFor('counter resumed on host-b', async () => /resumed at n=\d+/.test(await logsOf('counter')) || undefined);
    expect((await api.workloads()).filter((w) => w.spec?.name === 'counter')).toHaveLength(1);
  });

  it('fails cleanly when the workload misses its checkpoint timeout: it keeps running where it was', async () => {
    await run(shellSpec('deaf', 'trap "" USR1; while :; do sleep 0.2; done', { checkpointTimeoutMs: 800 }));
    const before = await waitRunning('deaf', 'host-a');
    const m = await migrate('deaf');
    const done = await api.waitForMigrationEnd(m.id);
    expect(migrationPhases.name(done.phase)).toBe('failed');
    expect(done.error).toMatch(/timed out|timeout/i);
    const after = await waitRunning('deaf', 'host-a');
    expect(after.pid).toBe(before.pid);
  });

  it('rolls back when the restored workload exits at once (verify fails): the source resumes from the same checkpoint', async () => {
    const script = [
      'echo start restore=${SWITCHYARD_RESTORE:-0}',
      'case "$SWITCHYARD_STATE_DIR" in *yard-agent-b-*) [ "$SWITCHYARD_RESTORE" = 1 ] && { echo broken here; exit 1; } ;; esac',
      '[ -f "$SWITCHYARD_STATE_DIR/n" ] && echo "resumed from $(cat "$SWITCHYARD_STATE_DIR/n")"',
      'n=0; trap \'echo $n > "$SWITCHYARD_STATE_DIR/n"; exit 0\' USR1',
      'while :; do n=$((n+1)); sleep 0.1; done',
    ].join('\n');
    await run(shellSpec('fragile', script));
    await waitRunning('fragile', 'host-a');
    const m = await migrate('fragile');
    const done = await api.waitForMigrationEnd(m.id);
    expect(migrationPhases.name(done.phase)).toBe('rolled_back');
    expect(done.error).toMatch(/did not keep running|exited/);
    const back = await waitRunning('fragile', 'host-a');
    expect(back.restored).toBe(true);
    await waitFor('fragile resumed from its checkpoint on host-a', async () => /resumed from \d+/.test(await logsOf('fragile')) || undefined);
  });

  it('rolls back when the target agent is SIGKILLed mid-transfer: the workload runs on the source', async () => {
    await run(spec('bigstate', { env: { COUNTER_STATE_MB: '300' } }));
    await waitFor('bigstate making progress', async () => /progress n=\d+/.test(await logsOf('bigstate')) || undefined, 60_000);
    const m = await migrate('bigstate');
    await api.waitForPhase(m.id, 'transferring');
    await agents.b!.kill('SIGKILL');
    const done = await api.waitForMigrationEnd(m.id);
    expect(migrationPhases.name(done.phase)).toBe('rolled_back');
    const back = await waitRunning('bigstate', 'host-a');
    expect(back.restored).toBe(true);
    startAgent('b');
    // When host-b is back it holds no copy: exactly one host runs it.
    await waitFor('host-b back', async () => (await runYard(['servers', '--json', '--controller', address, '--data-dir', ctlDir])).stdout.includes('"online"') || undefined);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await api.liveInstances('bigstate')).toHaveLength(1);
  });

  it('finishes or rolls back by itself when the controller is SIGKILLed mid-migration: one host only', async () => {
    await waitFor('host-b online', async () => {
      const r = await runYard(['servers', '--json', '--controller', address, '--data-dir', ctlDir]);
      return (JSON.parse(r.stdout) as { name: string; state: string }[]).find((s) => s.name === 'host-b')?.state === 'online' || undefined;
    });
    const m = await migrate('bigstate');
    await api.waitForPhase(m.id, 'transferring');
    await controller.kill('SIGKILL');
    api.close();
    await startCtl();
    api = control(address);
    const done = await api.waitForMigrationEnd(m.id, 90_000);
    expect(['committed', 'rolled_back']).toContain(migrationPhases.name(done.phase));
    const live = await waitFor('exactly one live instance', async () => {
      const l = await api.liveInstances('bigstate');
      return l.length === 1 && workloadStates.name(l[0]!.state) === 'running' ? l : undefined;
    }, 30_000);
    expect(live).toHaveLength(1);
  });
});
