import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeploymentStatus } from '../../src/core/deployment.js';
import { control, socketOf } from './control.js';
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
} from './procs.js';

export type Host = 'a' | 'b' | 'c';
const HOSTS: Record<Host, string> = { a: '127.0.0.2', b: '127.0.0.3', c: '127.0.0.4' };

/**
 * The deployment tests' fleet: a real controller, three workload agents (host-a, host-b, host-c,
 * each on its own loopback address) and a proxy agent, `edge`, all online.
 */
export async function startDeployFleet(prefix: string, opts: { controllerArgs?: string[]; hostArgs?: string[] } = {}) {
  assertBuilt();
  const ctlDir = tempDir(`yard-${prefix}-ctl-`);
  const fileDir = tempDir(`yard-${prefix}-files-`);
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const controller = startControllerProc(ctlDir, port, opts.controllerArgs ?? []);
  await controller.waitForOutput(/controller listening/);
  const agent = (name: string, args: string[]) =>
    startAgentProc(address, tempDir(`yard-${prefix}-${name}-`), [
      '--name',
      name,
      ...args,
      '--nvidia-smi',
      '/nonexistent/nvidia-smi',
      ...joinArgs(ctlDir),
    ]);
  const agents: Partial<Record<Host | 'edge', YardProcess>> = {};
  for (const host of ['a', 'b', 'c'] as const)
    agents[host] = agent(`host-${host}`, ['--advertise', HOSTS[host], ...(opts.hostArgs ?? [])]);
  agents.edge = agent('edge', ['--proxy']);
  const api = control(socketOf(ctlDir));
  const yard = (...args: string[]) => runYard([...args, '--controller', address, '--data-dir', ctlDir], {}, 60_000);
  await waitFor(
    'four agents online',
    async () => {
      const l = JSON.parse((await yard('servers', '--json')).stdout) as { state: string }[];
      return l.length === 4 && l.every((s) => s.state === 'online') ? true : undefined;
    },
    60_000,
  );
  return {
    address,
    ctlDir,
    agents,
    api,
    yard,
    /** Writes a file for the CLI (a deployment, a route) and returns its path. */
    file(name: string, text: string): string {
      const path = join(fileDir, name);
      writeFileSync(path, text);
      return path;
    },
    async status(name: string): Promise<DeploymentStatus> {
      return (await api.call(api.client.getDeployment, { name })).status!;
    },
    async stop(): Promise<void> {
      api.close();
      await Promise.all([...Object.values(agents).map((a) => a.stop()), controller.stop()]);
    },
  };
}

export type DeployFleet = Awaited<ReturnType<typeof startDeployFleet>>;
