import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MigrationStrategy,
  RestartPolicy,
  migrationPhases,
  workloadStates,
  type WorkloadSpec,
} from '../../src/core/workload.js';
import { control, socketOf } from '../helpers/control.js';
import { createHosts, netnsAvailable, type TestHost } from '../helpers/netns.js';
import {
  assertBuilt,
  freePort,
  joinArgs,
  runYard,
  startAgentProc,
  startControllerProc,
  tempDir,
  waitFor,
  type YardProcess,
} from '../helpers/procs.js';

const COUNTER = resolve(import.meta.dirname, '../../examples/checkpoint-counter.mjs');

function spec(name: string, over: Partial<WorkloadSpec> = {}): WorkloadSpec {
  return {
    name,
    command: process.execPath,
    args: [COUNTER],
    env: {},
    cwd: '',
    labels: {},
    restart: RestartPolicy.RESTART_POLICY_NEVER,
    strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
    checkpointSignal: 'SIGUSR1',
    checkpointTimeoutMs: 10_000,
    ports: [],
    ...over,
  };
}

/** A shell workload for fault cases: saves on SIGUSR1; `failOn` makes it misbehave on one host. */
function shellSpec(name: string, script: string, over: Partial<WorkloadSpec> = {}): WorkloadSpec {
  return spec(name, { command: '/bin/sh', args: ['-c', script], ...over });
}

/** As root, each agent gets a network namespace of its own: really different hosts. */
const NETNS = netnsAvailable();

/**
 * Migrations between real agents (separate processes and data dirs — and, as root, separate
 * network namespaces) through a real controller, proving DESIGN.md's invariants: state arrives
 * exactly; any failure leaves the workload running on exactly one host, restored from the same
 * checkpoint.
 */
describe(`migration between real agents${NETNS ? ' in their own network namespaces' : ' on 127.0.0.1'}`, () => {
  let netns: ReturnType<typeof createHosts> | undefined;
  const hostOf: Partial<Record<'a' | 'b', TestHost>> = {};
  let port: number;
  let address: string;
  let controller: YardProcess;
  const ctlDir = tempDir('yard-mig-ctl-');
  const dirs = { a: tempDir('yard-agent-a-'), b: tempDir('yard-agent-b-') };
  const agents: Record<'a' | 'b', YardProcess | undefined> = { a: undefined, b: undefined };
  let api: ReturnType<typeof control>;

  const startAgent = (host: 'a' | 'b') => {
    const h = hostOf[host];
    // In a namespace the agent dials the controller across its veth, off loopback.
    const dial = h ? `${h.gateway}:${port}` : address;
    agents[host] = startAgentProc(
      dial,
      dirs[host],
      ['--name', `host-${host}`, '--nvidia-smi', '/nonexistent/nvidia-smi', ...joinArgs(ctlDir)],
      h?.wrap,
    );
  };
  const startCtl = async () => {
    controller = startControllerProc(
      ctlDir,
      port,
      ['--verify', '1500ms', '--grace', '20s', '--cpu-limit', '100'],
      NETNS ? '0.0.0.0' : '127.0.0.1',
    );
    await controller.waitForOutput(/controller listening/);
  };
  const serverId = async (name: string) => {
    const r = await runYard(['servers', '--json', '--controller', address, '--data-dir', ctlDir]);
    return (JSON.parse(r.stdout) as { id: string; name: string }[]).find((s) => s.name === name)!.id;
  };
  const logsOf = (name: string) => api.logs(name);
  const run = (s: WorkloadSpec, server = 'host-a') => api.call(api.client.runWorkload, { server, spec: s });
  const migrate = (
    workload: string,
    strategy: MigrationStrategy = MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
    target = 'host-b',
  ) => api.call(api.client.startMigration, { workload, target, strategy }).then((r) => r.migration!);
  const waitRunning = (name: string, host: string, timeoutMs = 30_000) =>
    waitFor(
      `${name} running on ${host}`,
      async () => {
        const id = await serverId(host);
        const live = await api.liveInstances(name);
        return live.length === 1 && live[0]!.serverId === id && workloadStates.name(live[0]!.state) === 'running'
          ? live[0]
          : undefined;
      },
      timeoutMs,
      200,
    );

  beforeAll(async () => {
    assertBuilt();
    port = await freePort();
    address = `127.0.0.1:${port}`;
    if (NETNS) {
      netns = createHosts(2);
      [hostOf.a, hostOf.b] = netns.hosts;
    }
    await startCtl();
    startAgent('a');
    startAgent('b');
    api = control(socketOf(ctlDir));
    // What the agents said, should they not come: a timeout alone tells nothing.
    const said = () =>
      `both agents online; agent a said:\n${agents.a?.output.slice(-1500)}\nagent b said:\n${agents.b?.output.slice(-1500)}`;
    await waitFor(
      said,
      async () => {
        const r = await runYard(['servers', '--json', '--controller', address, '--data-dir', ctlDir]);
        const l = JSON.parse(r.stdout) as { state: string }[];
        return l.length === 2 && l.every((s) => s.state === 'online') ? true : undefined;
      },
      30_000,
    );
  });

  afterAll(async () => {
    api?.close();
    // SIGTERM: the agents stop their workloads; nothing is left running after the suite.
    await Promise.all([agents.a?.stop(), agents.b?.stop(), controller?.stop()]);
    netns?.destroy();
  });

  it('sees the agents as separate hosts', async () => {
    const r = await runYard(['servers', '--json', '--controller', address, '--data-dir', ctlDir]);
    const byName = Object.fromEntries(
      (JSON.parse(r.stdout) as { name: string; addresses: string[] }[]).map((s) => [s.name, s.addresses]),
    );
    if (NETNS) {
      expect(byName['host-a']).toEqual(expect.arrayContaining([expect.stringMatching(/^10\.\d+\.0\.2$/)]));
      expect(byName['host-b']).toEqual(expect.arrayContaining([expect.stringMatching(/^10\.\d+\.1\.2$/)]));
    } else {
      expect(Object.keys(byName).sort()).toEqual(['host-a', 'host-b']);
    }
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
    for (const t of ['checkpointMs', 'transferMs', 'restoreMs', 'downtimeMs'] as const)
      expect(done.timings?.[t]).toBeGreaterThanOrEqual(0);
    const onB = await waitRunning('counter', 'host-b');
    expect(onB.restored).toBe(true);
    // The example verifies its own checksum on restore and exits 2 if the state is not exact.
    await waitFor(
      'counter resumed on host-b',
      async () => /resumed at n=\d+/.test(await logsOf('counter')) || undefined,
    );
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
    await waitFor(
      'fragile resumed from its checkpoint on host-a',
      async () => /resumed from \d+/.test(await logsOf('fragile')) || undefined,
    );
  });

  it('rolls back when an operator cancels during verify: the copy on the target goes, the source resumes from the same checkpoint', async () => {
    const script = [
      '[ -f "$SWITCHYARD_STATE_DIR/n" ] && echo "resumed from $(cat "$SWITCHYARD_STATE_DIR/n")"',
      'n=0; trap \'echo $n > "$SWITCHYARD_STATE_DIR/n"; exit 0\' USR1',
      'while :; do n=$((n+1)); sleep 0.1; done',
    ].join('\n');
    await run(shellSpec('patient', script));
    await waitRunning('patient', 'host-a');
    const m = await migrate('patient');
    await api.waitForPhase(m.id, 'verifying');
    await api.call(api.client.cancelMigration, { id: m.id });
    const done = await api.waitForMigrationEnd(m.id);
    expect(migrationPhases.name(done.phase)).toBe('rolled_back');
    expect(done.error).toBe('cancelled by an operator');
    // Cancelled inside the verify window (1.5 s): the verify never completed.
    expect(done.timings?.verifyMs).toBeUndefined();
    const back = await waitRunning('patient', 'host-a');
    expect(back.restored).toBe(true);
    await waitFor(
      'patient resumed from its checkpoint on host-a',
      async () => /resumed from \d+/.test(await logsOf('patient')) || undefined,
    );
    expect(await api.liveInstances('patient')).toHaveLength(1);
  });

  it('moves a stateless workload with the restart strategy: started on the target, then the source stopped', async () => {
    await run(
      shellSpec('web', 'echo "serving restore=${SWITCHYARD_RESTORE:-0}"; while :; do sleep 0.2; done', {
        strategy: MigrationStrategy.MIGRATION_STRATEGY_RESTART,
      }),
    );
    await waitRunning('web', 'host-a');
    const m = await migrate('web', MigrationStrategy.MIGRATION_STRATEGY_RESTART);
    const done = await api.waitForMigrationEnd(m.id);
    expect(migrationPhases.name(done.phase)).toBe('committed');
    expect(done.timings?.downtimeMs).toBe(0);
    const onB = await waitRunning('web', 'host-b');
    expect(onB.restored).toBe(false);
    expect((await api.workloads()).filter((w) => w.spec?.name === 'web')).toHaveLength(1);
  });

  it('moves a workload that cannot checkpoint itself with the freeze strategy: its state dir as it was when frozen', async () => {
    const script = [
      '[ "$SWITCHYARD_RESTORE" = 1 ] && echo "thawed at $(cat "$SWITCHYARD_STATE_DIR/n")"',
      'n=$(cat "$SWITCHYARD_STATE_DIR/n" 2>/dev/null || echo 0)',
      // Written aside and renamed: frozen at any instant, n holds a whole number.
      'while :; do n=$((n+1)); echo $n > "$SWITCHYARD_STATE_DIR/n.new"; mv "$SWITCHYARD_STATE_DIR/n.new" "$SWITCHYARD_STATE_DIR/n"; sleep 0.05; done',
    ].join('\n');
    await run(shellSpec('legacy', script, { strategy: MigrationStrategy.MIGRATION_STRATEGY_FREEZE }));
    await waitRunning('legacy', 'host-a');
    await new Promise((r) => setTimeout(r, 500));
    const m = await migrate('legacy', MigrationStrategy.MIGRATION_STRATEGY_FREEZE);
    const done = await api.waitForMigrationEnd(m.id);
    expect(migrationPhases.name(done.phase), done.error).toBe('committed');
    await waitRunning('legacy', 'host-b');
    const thawed = await waitFor(
      'legacy thawed on host-b',
      async () => /thawed at (\d+)/.exec(await logsOf('legacy'))?.[1],
    );
    expect(Number(thawed)).toBeGreaterThan(3);
    expect((await api.workloads()).filter((w) => w.spec?.name === 'legacy')).toHaveLength(1);
  });

  it('rolls back when the target agent is SIGKILLed mid-transfer: the workload runs on the source', async () => {
    await run(spec('bigstate', { env: { COUNTER_STATE_MB: '300' } }));
    await waitFor(
      'bigstate making progress',
      async () => /progress n=\d+/.test(await logsOf('bigstate')) || undefined,
      60_000,
    );
    const m = await migrate('bigstate');
    await api.waitForPhase(m.id, 'transferring');
    await agents.b!.kill('SIGKILL');
    const done = await api.waitForMigrationEnd(m.id);
    expect(migrationPhases.name(done.phase)).toBe('rolled_back');
    const back = await waitRunning('bigstate', 'host-a');
    expect(back.restored).toBe(true);
    startAgent('b');
    // When host-b is back it holds no copy: exactly one host runs it.
    await waitFor(
      'host-b back',
      async () =>
        (await runYard(['servers', '--json', '--controller', address, '--data-dir', ctlDir])).stdout.includes(
          '"online"',
        ) || undefined,
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(await api.liveInstances('bigstate')).toHaveLength(1);
  });

  it('rolls back when the target agent is SIGKILLed while the source checkpoints: the source runs again from that checkpoint', async () => {
    // Saves slowly, so the kill lands mid-checkpoint; the rollback then follows the checkpoint
    // result at once, ahead of the source agent's next workload snapshot.
    const script = [
      '[ -f "$SWITCHYARD_STATE_DIR/n" ] && [ "$SWITCHYARD_RESTORE" = 1 ] && echo "resumed from $(cat "$SWITCHYARD_STATE_DIR/n")"',
      'n=0; trap \'sleep 0.8; echo $n > "$SWITCHYARD_STATE_DIR/n"; echo "saved $n"; exit 0\' USR1',
      'while :; do n=$((n+1)); sleep 0.1; done',
    ].join('\n');
    await run(shellSpec('slowsave', script));
    await waitRunning('slowsave', 'host-a');
    const m = await migrate('slowsave');
    await api.waitForPhase(m.id, 'checkpointing');
    await agents.b!.kill('SIGKILL');
    const done = await api.waitForMigrationEnd(m.id);
    expect(migrationPhases.name(done.phase)).toBe('rolled_back');
    const back = await waitRunning('slowsave', 'host-a', 10_000);
    expect(back.restored).toBe(true);
    const saved = await waitFor(
      'slowsave resumed on host-a',
      async () => /saved (\d+)[\s\S]*resumed from (\d+)/.exec(await logsOf('slowsave')) ?? undefined,
    );
    expect(saved[2]).toBe(saved[1]);
    startAgent('b');
    await waitFor('host-b back', async () => {
      const r = await runYard(['servers', '--json', '--controller', address, '--data-dir', ctlDir]);
      return (
        (JSON.parse(r.stdout) as { name: string; state: string }[]).find((s) => s.name === 'host-b')?.state ===
          'online' || undefined
      );
    });
    expect(await api.liveInstances('slowsave')).toHaveLength(1);
  });

  it('goes on from the save a workload finished after its agent was SIGKILLed mid-checkpoint, never afresh', async () => {
    // It ignores the hangup of its agent's death while it saves, as a job mid-save would.
    const script = [
      '[ -f "$SWITCHYARD_STATE_DIR/n" ] && [ "$SWITCHYARD_RESTORE" = 1 ] && echo "resumed from $(cat "$SWITCHYARD_STATE_DIR/n")"',
      'n=0; trap \'trap "" HUP; sleep 0.8; echo $n > "$SWITCHYARD_STATE_DIR/n"; exit 0\' USR1',
      'while :; do n=$((n+1)); sleep 0.1; done',
    ].join('\n');
    await run(shellSpec('cutshort', script));
    await waitRunning('cutshort', 'host-a');
    const m = await migrate('cutshort');
    await api.waitForPhase(m.id, 'checkpointing');
    await new Promise((r) => setTimeout(r, 300));
    await agents.a!.kill('SIGKILL');
    startAgent('a');
    const done = await api.waitForMigrationEnd(m.id);
    expect(migrationPhases.name(done.phase)).toBe('rolled_back');
    const back = await waitRunning('cutshort', 'host-a', 10_000);
    expect(back.restored).toBe(true);
    await waitFor(
      'cutshort resumed from its save',
      async () => /resumed from \d+/.test(await logsOf('cutshort')) || undefined,
      5000,
    );
  });

  it('keeps a restored copy stopped when the target agent restarts before the commit: never two hosts', async () => {
    // Every start is noted outside the hosts' data dirs: a copy stopped at once still shows.
    const starts = join(tempDir('yard-mig-starts-'), 'starts');
    const script = [
      `echo "$SWITCHYARD_STATE_DIR" >> ${starts}`,
      'n=0; trap \'echo $n > "$SWITCHYARD_STATE_DIR/n"; exit 0\' USR1',
      'while :; do n=$((n+1)); sleep 0.1; done',
    ].join('\n');
    await run(shellSpec('restless', script));
    await waitRunning('restless', 'host-a');
    const m = await migrate('restless');
    await api.waitForPhase(m.id, 'verifying');
    // The restored copy has really started on host-b (its shell wrote its line) before its agent dies.
    await waitFor(
      'restless started on host-b',
      async () =>
        readFileSync(starts, 'utf8')
          .split('\n')
          .some((l) => l.startsWith(dirs.b)) || undefined,
    );
    await agents.b!.kill('SIGKILL');
    startAgent('b');
    const done = await api.waitForMigrationEnd(m.id);
    expect(migrationPhases.name(done.phase)).toBe('rolled_back');
    await waitRunning('restless', 'host-a');
    await waitFor('host-b back', async () => {
      const r = await runYard(['servers', '--json', '--controller', address, '--data-dir', ctlDir]);
      return (
        (JSON.parse(r.stdout) as { name: string; state: string }[]).find((s) => s.name === 'host-b')?.state ===
          'online' || undefined
      );
    });
    await new Promise((r) => setTimeout(r, 1000));
    // host-b started it once, for the verify; its restarted agent left it stopped.
    const onB = readFileSync(starts, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith(dirs.b));
    expect(onB).toHaveLength(1);
    expect(await api.liveInstances('restless')).toHaveLength(1);
  });

  it('leaves workloads running through a controller restart: the agents report the same processes', async () => {
    const before = await waitRunning('counter', 'host-b');
    await controller.kill('SIGKILL');
    api.close();
    await startCtl();
    api = control(socketOf(ctlDir));
    const after = await waitRunning('counter', 'host-b');
    expect(after.pid).toBe(before.pid);
    expect(after.restarts).toBe(before.restarts);
  });

  it('finishes or rolls back by itself when the controller is SIGKILLed mid-migration: one host only', async () => {
    await waitFor('host-b online', async () => {
      const r = await runYard(['servers', '--json', '--controller', address, '--data-dir', ctlDir]);
      return (
        (JSON.parse(r.stdout) as { name: string; state: string }[]).find((s) => s.name === 'host-b')?.state ===
          'online' || undefined
      );
    });
    // After the previous test's controller restart, the controller knows what runs only from
    // the agents' reports: wait for host-a's, or StartMigration may not find the workload yet.
    await waitFor(
      'bigstate reported running',
      async () => ((await api.liveInstances('bigstate')).length === 1 ? true : undefined),
      30_000,
    );
    const m = await migrate('bigstate');
    await api.waitForPhase(m.id, 'transferring');
    await controller.kill('SIGKILL');
    api.close();
    await startCtl();
    api = control(socketOf(ctlDir));
    const done = await api.waitForMigrationEnd(m.id, 90_000);
    expect(['committed', 'rolled_back']).toContain(migrationPhases.name(done.phase));
    const live = await waitFor(
      'exactly one live instance',
      async () => {
        const l = await api.liveInstances('bigstate');
        return l.length === 1 && workloadStates.name(l[0]!.state) === 'running' ? l : undefined;
      },
      30_000,
    );
    expect(live).toHaveLength(1);
  });
});
