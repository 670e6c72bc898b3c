import { userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Backoff } from '../../src/agent/backoff.js';
import { RemoteFleet } from '../../src/cli/remote-fleet.js';
import type { FleetChange } from '../../src/core/fleet.js';
import { stateName } from '../../src/core/types.js';
import { MigrationStrategy, RestartPolicy } from '../../src/core/workload.js';
import { control, socketOf } from '../helpers/control.js';
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
import { credentialFile } from '../helpers/pki.js';
import { ptyYard, type PtyScreen } from '../helpers/pty.js';

/** The terminal these dashboards were written for. */
const SIZE = { cols: 120, rows: 40 };

const ENTER = '\r';
const ESCAPE = '\x1b';
const OPERATOR = userInfo().username;

/** Counts until SIGUSR1, then saves the count in its state dir and exits 0 (the checkpoint contract). */
const COUNTER =
  '[ "$SWITCHYARD_RESTORE" = 1 ] && echo "resumed $(cat "$SWITCHYARD_STATE_DIR/n")"; n=0; trap \'echo $n > "$SWITCHYARD_STATE_DIR/n"; exit 0\' USR1; while :; do n=$((n+1)); sleep 0.1; done';

/**
 * Dashboards attached to a running controller: `yard` finds it through the data dir, runs in a
 * real pty, and acts through the Control API; another dashboard sees what the first one did,
 * and the controller's audit trail says who did it.
 */
describe('dashboards attached to a running controller', () => {
  const ctlDir = tempDir();
  let address: string;
  let controller: YardProcess;
  const agents: YardProcess[] = [];
  const dashboards: PtyScreen[] = [];
  let api: ReturnType<typeof control>;

  beforeAll(async () => {
    assertBuilt();
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    controller = startControllerProc(ctlDir, port, ['--verify', '800ms', '--cpu-limit', '100']);
    await controller.waitForOutput(/controller listening/);
    for (const name of ['src-host', 'dst-host'])
      agents.push(
        startAgentProc(address, tempDir(), ['--name', name, '--nvidia-smi', '/nonexistent', ...joinArgs(ctlDir)]),
      );
    api = control(socketOf(ctlDir));
    await waitFor('both agents online', async () => {
      const { servers } = await api.call(api.client.listServers, { pageSize: 0, pageToken: '' });
      return servers.filter((s) => stateName(s.state) === 'online').length === 2 || undefined;
    });
    await api.call(api.client.runWorkload, {
      server: 'src-host',
      spec: {
        name: 'job',
        command: '/bin/sh',
        args: ['-c', COUNTER],
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
  });

  afterAll(async () => {
    await Promise.all(dashboards.map((d) => d.stop()));
    api?.close();
    // SIGTERM: an agent stops its workloads before it exits.
    await Promise.all(agents.map((a) => a.stop()));
    await controller?.stop();
  });

  it('opens two dashboards on the running controller instead of starting another', async () => {
    dashboards.push(ptyYard(['--data-dir', ctlDir], SIZE), ptyYard(['--data-dir', ctlDir], SIZE));
    for (const d of dashboards) {
      const screen = await d.waitFor(/dst-host[\s\S]*src-host/);
      expect(screen).toContain(`${address} (attached)`);
      expect(screen).toMatch(/2\/2 online/);
    }
    // No local agent came with them: the fleet is still the two agents.
    const { servers } = await api.call(api.client.listServers, { pageSize: 0, pageToken: '' });
    expect(servers.map((s) => s.name).sort()).toEqual(['dst-host', 'src-host']);
  });

  it('starts with the controller’s recent readings: sparklines are full on the first screen', async () => {
    // The controller has sampled both hosts (every 250 ms) for a while by now.
    await waitFor('20 samples of src-host at the controller', async () => {
      const { server } = await api.call(api.client.getServer, { server: 'src-host' });
      return server && Date.now() - server.firstSeenMs > 5000 ? true : undefined;
    });
    const fleet = new RemoteFleet({ address: socketOf(ctlDir), from: 'test' });
    try {
      await fleet.ready(5000);
      const series = fleet.get('src-host')!.series;
      expect(series.cpu.length).toBeGreaterThanOrEqual(15);
      expect(series.timestamps.values().every((t, i, ts) => i === 0 || t > ts[i - 1]!)).toBe(true);
    } finally {
      fleet.close();
    }
    const d = ptyYard(['--data-dir', ctlDir], SIZE);
    dashboards.push(d);
    const screen = await d.waitFor(/CPU .*\d+%/);
    // "CPU ████░░░░  12% ⣀⣀⡠⠤⢄": the sparkline after the value is filled edge to edge at once.
    const spark = /CPU [^\n]*?\d+%\s+(\S+)/.exec(screen)![1]!;
    expect(spark.length).toBeGreaterThanOrEqual(8);
  });

  it('migrates by keystrokes in one dashboard; the other sees the move; the audit trail names the operator', async () => {
    const [d1, d2] = dashboards as [PtyScreen, PtyScreen];
    // The second one watches the Migrations view before anything happens: what it shows comes live.
    await d2.press('M');
    await d2.waitFor(/Migrations/);

    await d1.press('w');
    await d1.waitFor(/job\s+src-host\s+● running/);
    await d1.press('v');
    await d1.waitFor(/Move it to[\s\S]*▶ dst-host/);
    await d1.press(ENTER);
    await d1.waitFor(/How should it move\?/);
    await d1.press(ENTER);
    await d1.waitFor(/✓ Every check passed/);
    await d1.press(ENTER);
    await d1.waitFor(/Start this migration\?/);
    await d1.press('y');
    await d1.waitFor(/✓ committed: job now runs on dst-host/, 30_000);

    await d2.waitFor(/job[\s\S]*src-host → dst-host[\s\S]*committed/);
    await d2.press('w');
    await d2.waitFor(/job\s+dst-host\s+● running/);

    const audit = await runYard(['audit', '--json', '--data-dir', ctlDir]);
    expect(audit.code, audit.stderr).toBe(0);
    const entries = JSON.parse(audit.stdout) as {
      who: string;
      action: string;
      target: string;
      ok: boolean;
      error: string | null;
    }[];
    expect(entries[0]).toMatchObject({
      who: OPERATOR,
      action: 'migration.start',
      target: 'job → dst-host',
      ok: true,
      error: null,
    });
    expect(entries).toContainEqual(
      expect.objectContaining({ who: OPERATOR, action: 'workload.run', target: 'job on src-host', ok: true }),
    );
  });

  it('records a refused action with its error', async () => {
    await expect(api.call(api.client.cancelMigration, { id: 'no-such-migration' })).rejects.toThrow(/no migration/);
    const audit = await runYard(['audit', '--json', '--limit', '1', '--data-dir', ctlDir]);
    const [entry] = JSON.parse(audit.stdout) as { action: string; ok: boolean; error: string }[];
    expect(entry).toMatchObject({ action: 'migration.cancel', ok: false });
    expect(entry!.error).toMatch(/no migration "no-such-migration"/);
    const text = await runYard(['audit', '--data-dir', ctlDir]);
    expect(text.stdout).toMatch(/WHEN\s+WHO\s+ACTION\s+TARGET\s+OUTCOME/);
    expect(text.stdout).toMatch(/migration\.start\s+job → dst-host\s+ok/);
  });

  it('quitting an attached dashboard stops nothing', async () => {
    const [d1, d2] = dashboards as [PtyScreen, PtyScreen];
    await d1.press(ESCAPE, 'q');
    expect(await d1.exited).toBe(0);
    expect(controller.child.exitCode).toBeNull();
    expect((await api.liveInstances('job')).length).toBe(1);
    await d2.press(ESCAPE, 'f');
    await d2.waitFor(/2\/2 online/);
  });

  it('refuses --connect with --listen, and says so when --connect finds no controller', async () => {
    const both = await runYard(['--connect', address, '--listen', '127.0.0.1:0']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/connect.*listen|listen.*connect/);

    // First contact with nothing there: says what it does at once, then one line of what failed
    // and what to do, in well under the 5 s it once sat on a blank screen.
    const closed = await freePort();
    const bare = ptyYard(['--connect', `127.0.0.1:${closed}`, '--data-dir', tempDir()], SIZE);
    dashboards.push(bare);
    expect(await bare.exited).toBe(1);
    expect(bare.raw).toMatch(/is reached over TLS with an operator's credential: pass --credential FILE/);
    const credential = await credentialFile(tempDir(), `127.0.0.1:${closed}`, 'noc', 'viewer');
    const startedMs = Date.now();
    const d = ptyYard(['--connect', `127.0.0.1:${closed}`, '--credential', credential, '--data-dir', tempDir()], SIZE);
    dashboards.push(d);
    expect(await d.exited).toBe(1);
    // Under the 5 s it once sat (a Node start on a busy 2-core machine takes 1–2 s of this).
    expect(Date.now() - startedMs).toBeLessThan(4500);
    expect(d.raw.trim().split(/\r?\n/)).toEqual([
      `yard: connecting to the controller at 127.0.0.1:${closed} (from --connect)…`,
      `yard: cannot reach the controller at 127.0.0.1:${closed} (from --connect): nothing listens there (connection refused); check the address, and that \`yard controller --listen HOST:PORT\` runs there`,
    ]);
  });

  it('a second `yard --listen` for the data dir attaches on the same address, and on another says how to attach', async () => {
    const other = await freePort();
    const refused = ptyYard(['--data-dir', ctlDir, '--listen', `127.0.0.1:${other}`], SIZE);
    dashboards.push(refused);
    expect(await refused.exited).toBe(1);
    expect(refused.raw).toContain(
      `a controller already runs for data dir ${ctlDir} (pid ${controller.child.pid}, listening on ${address}): \`yard --data-dir ${ctlDir}\` attaches to it; for another controller on 127.0.0.1:${other}, give it its own --data-dir`,
    );
    const same = ptyYard(['--data-dir', ctlDir, '--listen', address], SIZE);
    dashboards.push(same);
    await same.waitFor(/\(attached\)/);
    expect(controller.child.exitCode).toBeNull();
  });
});

describe('RemoteFleet', () => {
  it('says when the controller is gone, and comes back with its servers when it returns', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    // A real controller process: stopping it closes its connections as a crash or restart would.
    const start = async () => {
      const p = startControllerProc(dataDir, port);
      await p.waitForOutput(/controller listening/);
      return p;
    };
    let controller = await start();
    const agent = startAgentProc(address, tempDir(), [
      '--name',
      'far-host',
      '--nvidia-smi',
      '/nonexistent',
      ...joinArgs(dataDir),
    ]);
    const fleet = new RemoteFleet({ address: socketOf(dataDir), from: 'test' }, { backoff: new Backoff(100, 500) });
    const changes: FleetChange[] = [];
    fleet.subscribe((c) => changes.push(c));
    const online = () =>
      fleet.list().find((s) => s.server.name === 'far-host' && stateName(s.server.state) === 'online');
    try {
      await fleet.ready(5000);
      expect(fleet.mode).toBe('attached');
      await waitFor('far-host online, with samples', () =>
        online() && changes.some((c) => c.kind === 'sample') ? true : undefined,
      );

      await controller.stop();
      const down = await waitFor('connection: false', () =>
        changes.find((c) => c.kind === 'connection' && !c.connected),
      );
      expect(down).toMatchObject({ kind: 'connection', connected: false });

      controller = await start();
      await waitFor('connection: true again', () =>
        changes.slice(changes.indexOf(down)).find((c) => c.kind === 'connection' && c.connected),
      );
      expect(fleet.get('far-host')).toBeDefined();
      await waitFor('far-host back online', () => online());
      expect(fleet.get('far-host')!.series.cpu.length).toBeGreaterThan(0);
    } finally {
      fleet.close();
      await agent.stop();
      await controller.stop();
    }
  });
});
