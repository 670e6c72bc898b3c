import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationStrategy, workloadStates } from '../../src/core/workload.js';
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
import { echoSpec } from '../helpers/specs.js';
import { startTraffic } from '../helpers/traffic.js';

/**
 * A controller restart while the agent of a route's backend is slow to come back (SIGSTOP makes
 * it certain; its workload keeps serving): the proxy keeps serving the backend it knows, and
 * not one client connection fails — before, the restarted controller sent the proxy a table
 * whose backend had no address.
 */
describe("a controller restart while a backend's agent is away", () => {
  const ctlDir = tempDir('yard-rr-ctl-');
  const dirs = { a: tempDir('yard-rr-a-'), edge: tempDir('yard-rr-edge-') };
  let port: number;
  let controller: YardProcess;
  const agents: { a?: YardProcess; edge?: YardProcess } = {};
  const yard = (...args: string[]) =>
    runYard([...args, '--controller', `127.0.0.1:${port}`, '--data-dir', ctlDir], {}, 30_000);
  const startCtl = () => startControllerProc(ctlDir, port, ['--grace', '60s']);
  const states = async (): Promise<Record<string, string>> =>
    Object.fromEntries(
      (JSON.parse((await yard('servers', '--json')).stdout) as { name: string; state: string }[]).map((s) => [
        s.name,
        s.state,
      ]),
    );

  beforeAll(async () => {
    assertBuilt();
    port = await freePort();
    controller = startCtl();
    await controller.waitForOutput(/controller listening/);
    const common = ['--nvidia-smi', '/nonexistent/nvidia-smi', ...joinArgs(ctlDir)];
    agents.a = startAgentProc(`127.0.0.1:${port}`, dirs.a, ['--name', 'host-a', '--advertise', '127.0.0.2', ...common]);
    agents.edge = startAgentProc(`127.0.0.1:${port}`, dirs.edge, ['--name', 'edge', '--proxy', ...common]);
    await waitFor(
      'both agents online',
      async () => {
        const s = await states();
        return s['host-a'] === 'online' && s.edge === 'online' ? true : undefined;
      },
      30_000,
    );
  }, 60_000);

  afterAll(async () => {
    // Only while it is ours: the pid of an agent that already exited may belong to another process now.
    if (agents.a?.child.pid && agents.a.child.exitCode === null && agents.a.child.signalCode === null)
      process.kill(agents.a.child.pid, 'SIGCONT');
    await Promise.all([agents.a?.stop(), agents.edge?.stop(), controller?.stop()]);
  });

  it("no client connection fails: the proxy keeps the backend it knows until the backend's agent reports again", async () => {
    const api = control(socketOf(ctlDir));
    const webPort = await freePort();
    const echoPort = await freePort();
    try {
      await api.call(api.client.runWorkload, {
        server: 'host-a',
        spec: echoSpec('api', 'blue', echoPort, MigrationStrategy.MIGRATION_STRATEGY_RESTART),
      });
      await waitFor(
        'api running',
        async () =>
          (await api.liveInstances('api')).some((w) => workloadStates.name(w.state) === 'running') || undefined,
        20_000,
      );
    } finally {
      api.close();
    }
    const file = join(ctlDir, 'web.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'web',
        listen: { server: 'edge', port: webPort, host: '127.0.0.1' },
        backends: [{ workload: 'api', weight: 100, version: 'blue' }],
        healthCheck: { kind: 'tcp', interval: '300ms', timeout: '200ms', unhealthyAfter: 2, healthyAfter: 1 },
      }),
    );
    expect((await yard('route', 'apply', '-f', file)).code).toBe(0);

    // One client, a fresh connection every 50 ms, bounded in count and time.
    const traffic = startTraffic(`127.0.0.1:${webPort}`, {
      clients: 1,
      pauseMs: 50,
      maxMs: 120_000,
      maxRequests: 2400,
    });
    try {
      await waitFor('traffic flowing', () => (traffic.report().ok >= 10 ? true : undefined), 20_000);
      process.kill(agents.a!.child.pid!, 'SIGSTOP');
      await controller.stop();
      controller = startCtl();
      await controller.waitForOutput(/controller listening/);
      await waitFor(
        'the proxy back, host-a not',
        async () => {
          const s = await states();
          return s.edge === 'online' && s['host-a'] === 'unknown' ? true : undefined;
        },
        40_000,
        200,
      );
      // Time for the restarted controller to place (or not) the proxy's table, and for clients to feel it.
      const before = traffic.report().ok;
      await waitFor(
        'traffic through the proxy while host-a is away',
        () => (traffic.report().ok >= before + 60 ? true : undefined),
        30_000,
      );

      process.kill(agents.a!.child.pid!, 'SIGCONT');
      await waitFor(
        'host-a back',
        async () => ((await states())['host-a'] === 'online' ? true : undefined),
        40_000,
        200,
      );
      const after = traffic.report().ok;
      await waitFor(
        'traffic after host-a is back',
        () => (traffic.report().ok >= after + 40 ? true : undefined),
        30_000,
      );
    } finally {
      const r = await traffic.stop();
      console.log(
        `traffic across the controller restart: ${r.ok} answered, ${r.failed} failed, slowest ${r.maxMs.toFixed(0)} ms`,
      );
      expect(r.failed, r.failures.join('\n')).toBe(0);
    }
  }, 180_000);
});
