import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startController, type Controller } from '../../src/controller/controller.js';
import { registryFleetSource } from '../../src/controller/fleet-source.js';
import { silentLogger } from '../../src/core/log.js';
import { MigrationStrategy, RestartPolicy, migrationPhases } from '../../src/core/workload.js';
import { control } from '../helpers/control.js';
import { assertBuilt, joinArgsFor, startAgentProc, tempDir, waitFor, type YardProcess } from '../helpers/procs.js';
import { KEY, openHeadless, type Headless } from '../tui/harness.js';

/** The migration wizard driven by keystrokes, from open to result, over a real controller and real agents. */
describe('the migration wizard over real agents', () => {
  let controller: Controller;
  const agents: YardProcess[] = [];
  let h: Headless;
  let api: ReturnType<typeof control>;

  beforeAll(async () => {
    assertBuilt();
    controller = await startController({
      dataDir: tempDir(),
      listen: '127.0.0.1:0',
      heartbeatIntervalMs: 200,
      graceMs: 60_000,
      verifyMs: 800,
      cpuLimitPct: 100,
      log: silentLogger,
    });
    for (const name of ['src-host', 'dst-host'])
      agents.push(
        startAgentProc(controller.address, tempDir(), [
          '--name',
          name,
          '--nvidia-smi',
          '/nonexistent',
          ...joinArgsFor(controller.joinToken),
        ]),
      );
    api = control(controller.socketAddress);
    await waitFor('both agents online', () =>
      controller.registry.list().filter((r) => r.server.state === 1).length === 2 ? true : undefined,
    );
    const script =
      '[ "$SWITCHYARD_RESTORE" = 1 ] && echo "resumed $(cat "$SWITCHYARD_STATE_DIR/n")"; n=0; trap \'echo $n > "$SWITCHYARD_STATE_DIR/n"; exit 0\' USR1; while :; do n=$((n+1)); sleep 0.1; done';
    await api.call(api.client.runWorkload, {
      server: 'src-host',
      spec: {
        name: 'job',
        command: '/bin/sh',
        args: ['-c', script],
        env: {},
        cwd: '',
        labels: {},
        restart: RestartPolicy.RESTART_POLICY_NEVER,
        strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
        checkpointSignal: 'SIGUSR1',
        checkpointTimeoutMs: 5000,
        ports: [],
      },
    });
    // The target step ranks the hosts once, when it opens: a host that has not sent its first
    // sample (CPU, free disk) yet is ranked ineligible, as an operator would see it on a slow start.
    await waitFor('both agents reporting CPU and free disk', () =>
      controller.registry
        .list()
        .every((r) => Number.isFinite(r.server.latest?.cpuPct) && r.server.latest?.dataFreeBytes !== undefined) &&
      controller.registry.list().length === 2
        ? true
        : undefined,
    );
    h = openHeadless(registryFleetSource(controller, controller.address, 'test-operator'), { cols: 80, rows: 24 });
  });

  afterAll(async () => {
    h?.close();
    api?.close();
    await Promise.all(agents.map((a) => a.stop()));
    await controller?.stop();
  });

  const screenShows = (re: RegExp, what: string, timeoutMs = 15_000) =>
    waitFor(
      what,
      async () => {
        await h.settle();
        return re.test(h.text()) || undefined;
      },
      timeoutMs,
    );

  it('walks target → strategy → preflight → confirm → progress → result, and the workload moves', async () => {
    await h.press('w');
    await screenShows(/job\s+src-host\s+● running/, 'the workload listed');
    await h.press('v');
    await screenShows(/Move it to[\s\S]*▶ dst-host/, 'the target step ranking dst-host');
    await h.press(KEY.enter);
    await screenShows(/How should it move\?/, 'the strategy step');
    await h.press(KEY.enter);
    await screenShows(/✓ Every check passed/, 'preflight passed');
    expect(h.text()).toMatch(/✓ target-online\s+dst-host is online/);
    await h.press(KEY.enter);
    await screenShows(/Start this migration\?/, 'the confirm step');
    await h.press('y');
    await screenShows(/✓ committed: job now runs on dst-host/, 'the result', 30_000);
    expect(h.text()).toMatch(/downtime\s+\d/);

    const [m] = await api.migrations();
    expect(migrationPhases.name(m!.phase)).toBe('committed');
    expect(m!.requestedBy).toBe('test-operator');
    const live = await api.liveInstances('job');
    expect(live.map((w) => controller.registry.get(w.serverId)?.server.name)).toEqual(['dst-host']);
    await waitFor('resumed on dst-host', async () => /resumed \d+/.test(await api.logs('job')) || undefined);
  });

  it('shows the migration in the Migrations view afterwards', async () => {
    await h.press(KEY.escape);
    await h.press('M');
    await screenShows(/job[\s\S]*src-host → dst-host[\s\S]*committed/, 'the Migrations view row');
  });
});
