// A controller and two real agents for the migration tests (direct transfer, pre-copy, faults):
// the checkpoint-counter example as the workload, its state padded to a size.
import { resolve } from 'node:path';
import { MigrationStrategy, RestartPolicy, type WorkloadSpec } from '../../src/core/workload.js';
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

const COUNTER = resolve(import.meta.dirname, '../../examples/checkpoint-counter.mjs');

/** The checkpoint-counter example, its state padded to `stateMb` (written once, like weights). */
export function counter(name: string, stateMb: number): WorkloadSpec {
  return {
    name,
    command: process.execPath,
    args: [COUNTER],
    env: { COUNTER_STATE_MB: String(stateMb) },
    cwd: '',
    labels: {},
    restart: RestartPolicy.RESTART_POLICY_NEVER,
    strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
    checkpointSignal: 'SIGUSR1',
    checkpointTimeoutMs: 60_000,
    ports: [],
  };
}

/** A controller and two agents; `wraps` puts each agent in a namespace of its own. */
export async function fleet(wraps?: { a: string[]; b: string[]; dial: { a: string; b: string } }) {
  assertBuilt();
  const port = await freePort();
  const ctlDir = tempDir('yard-direct-ctl-');
  const ctl = startControllerProc(
    ctlDir,
    port,
    ['--verify', '1s', '--cpu-limit', '100'],
    wraps ? '0.0.0.0' : '127.0.0.1',
  );
  await ctl.waitForOutput(/controller listening/);
  const dirs = { a: tempDir('yard-direct-a-'), b: tempDir('yard-direct-b-') };
  const agent = (host: 'a' | 'b') =>
    startAgentProc(
      wraps ? `${wraps.dial[host]}:${port}` : `127.0.0.1:${port}`,
      dirs[host],
      [
        '--name',
        `host-${host}`,
        '--nvidia-smi',
        '/nonexistent',
        ...(wraps ? [] : ['--advertise', host === 'a' ? '127.0.0.2' : '127.0.0.3']),
        ...joinArgs(ctlDir),
      ],
      wraps?.[host],
    );
  const agents = { a: agent('a'), b: agent('b') };
  const api = control(socketOf(ctlDir));
  await waitFor(
    'both agents online',
    async () => {
      const l = JSON.parse((await runYard(['servers', '--json', '--data-dir', ctlDir])).stdout) as { state: string }[];
      return l.length === 2 && l.every((s) => s.state === 'online') ? true : undefined;
    },
    30_000,
  );
  const procs: YardProcess[] = [ctl, agents.a, agents.b];
  /** Starts the agent of `host` again (same data dir: the same server). */
  const restart = (host: 'a' | 'b') => {
    agents[host] = agent(host);
    procs.push(agents[host]);
  };
  return { ctl, ctlDir, agents, agentDirs: dirs, api, procs, restart };
}

export type Fleet = Awaited<ReturnType<typeof fleet>>;

/** Runs the counter on host-a with `stateMb` of state and starts moving it to host-b. */
export async function startMove(f: Fleet, name: string, stateMb: number, opts: { precopy?: boolean } = {}) {
  await f.api.call(f.api.client.runWorkload, { server: 'host-a', spec: counter(name, stateMb) });
  await waitFor(`${name} working`, async () => (/progress n=/.test(await f.api.logs(name)) ? true : undefined), 30_000);
  return (
    await f.api.call(f.api.client.startMigration, {
      workload: name,
      target: 'host-b',
      strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
      precopy: opts.precopy,
    })
  ).migration!;
}

export async function moveCounter(f: Fleet, name: string, stateMb: number, opts: { precopy?: boolean } = {}) {
  return f.api.waitForMigrationEnd((await startMove(f, name, stateMb, opts)).id, 120_000);
}
