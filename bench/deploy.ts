// Deployments at scale: a real controller keeping 1,000 replicas over simulated agents that
// answer its start and stop commands (fleet-sim.ts), its CPU and RSS with and without them.
import { controlClient } from '../src/cli/client.js';
import { parseDeploymentFile } from '../src/core/schema/deployment.js';
import { SimCredentials, startSimFleet } from './fleet-sim.js';
import { fakeHosts } from './hosts.js';
import { ProcMonitor, sleep, startController, type ProcUsage } from './lib.js';

export interface DeployBenchResult {
  agents: number;
  connected: number;
  deployments: number;
  replicas: number;
  /** The same fleet before any deployment. */
  baseline: ProcUsage;
  /** Every replica running, the reconciler passing every second. */
  steady: ProcUsage;
  /** From the first apply to every replica reported running. */
  placeS: number;
  /** A rolling restart of one deployment (maxSurge 25) until all its replicas run the new version. */
  restartS: number;
  restartReplicas: number;
}

/** One deployment of `replicas` that only needs a host to run on: no route, no placement labels. */
function deploymentFile(name: string, replicas: number): string {
  return [
    `name: ${name}`,
    `replicas: ${replicas}`,
    'template: {command: /bin/sleep, args: ["3600"]}',
    'update: {maxSurge: 25, maxUnavailable: 0}',
    '',
  ].join('\n');
}

export async function runDeployBench(opts: {
  agents: number;
  deployments: number;
  replicasEach: number;
  seconds: number;
  log: (line: string) => void;
}): Promise<DeployBenchResult> {
  const { log } = opts;
  const ctl = await startController({ heartbeat: '1s', grace: '30s' });
  log(`  controller pid ${ctl.proc.pid} on ${ctl.address}`);
  const c = controlClient({ address: ctl.control, from: 'bench' }, 60_000);
  const hosts = fakeHosts(opts.agents);
  const creds = await SimCredentials.mint(ctl.dataDir, hosts);
  const fleet = await startSimFleet({ address: ctl.address, credentials: creds, hosts, runsWorkloads: true, log });
  try {
    await sleep(3000);
    log(`  baseline: ${opts.seconds} s with no deployment…`);
    let mon = new ProcMonitor(ctl.proc.pid);
    await sleep(opts.seconds * 1000);
    const baseline = mon.stop();

    const total = opts.deployments * opts.replicasEach;
    const t0 = performance.now();
    for (let i = 0; i < opts.deployments; i++) {
      const deployment = parseDeploymentFile(deploymentFile(`app${i}`, opts.replicasEach), `app${i}.yaml`);
      await c.call(c.client.applyDeployment, { deployment });
    }
    const running = async () =>
      (await c.call(c.client.listDeployments, {})).deployments.reduce((n, s) => n + s.running, 0);
    let placed = 0;
    for (let turn = 0; turn < 600 && placed < total; turn++) {
      await sleep(500);
      placed = await running();
    }
    const placeS = (performance.now() - t0) / 1000;
    log(`  ${placed}/${total} replicas running after ${placeS.toFixed(1)} s`);

    log(`  steady: ${opts.seconds} s with ${placed} replicas…`);
    mon = new ProcMonitor(ctl.proc.pid);
    await sleep(opts.seconds * 1000);
    const steady = mon.stop();

    const r0 = performance.now();
    const restarted = await c.call(c.client.restartDeployment, { name: 'app0' });
    const version = restarted.status?.deployment?.version ?? 0;
    let done = false;
    for (let turn = 0; turn < 600 && !done; turn++) {
      await sleep(250);
      const { status } = await c.call(c.client.getDeployment, { name: 'app0' });
      done =
        status !== undefined &&
        status.replicas.length === opts.replicasEach &&
        status.replicas.every((r) => r.version === version && r.healthy);
    }
    const restartS = (performance.now() - r0) / 1000;
    log(
      `  rolling restart of app0 (${opts.replicasEach} replicas) ${done ? 'done' : 'NOT done'} in ${restartS.toFixed(1)} s`,
    );
    return {
      agents: opts.agents,
      connected: fleet.connected,
      deployments: opts.deployments,
      replicas: placed,
      baseline,
      steady,
      placeS,
      restartS: done ? restartS : Number.NaN,
      restartReplicas: opts.replicasEach,
    };
  } finally {
    c.close();
    await fleet.close();
    await ctl.proc.kill();
  }
}
