import { join } from 'node:path';
import { statfs } from 'node:fs/promises';
import { formatHostPort, isLoopback, parseHostPort } from '../core/address.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { agentFiles } from '../core/paths.js';
import { PROTOCOL_VERSION, YARD_VERSION } from '../core/version.js';
import type { AgentHello } from '../gen/switchyard/v1/agent_gateway.js';
import { filesToHide } from './hidden-files.js';
import { loadOrCreateServerId } from './identity.js';
import { AgentTls } from './tls.js';
import { describeHost } from './metrics/host.js';
import { GpuOwners } from './metrics/gpu-owners.js';
import { createHostSampler } from './metrics/sampler.js';
import { removeTransferLeftovers } from './checkpoint/leftovers.js';
import { runCommand } from './commands.js';
import { claimPidFile } from './pidfile.js';
import { ensurePrivateDir } from './private-dir.js';
import { RoutingProxy } from './proxy/proxy.js';
import { PeerTransferServer } from './peer-transfer.js';
import { PreCopies } from './precopy/sync.js';
import { AgentSession } from './session.js';
import { Transfers } from './transfer.js';
import { Supervisor } from './workloads/supervisor.js';
import { gpuMemoryByWorkload } from '../core/gpu-users.js';
import type { HostSample } from '../core/types.js';
import type { Workload } from '../core/workload.js';

export interface AgentOptions {
  /** The controllers to dial, in order (`--controller A,B`); they share one CA. */
  controllers: readonly string[];
  dataDir: string;
  /** `yard1.<secret>.sha256:<CA pin>`: admits this agent the first time it joins (afterwards its certificate does). */
  joinToken?: string;
  name?: string;
  labels: Record<string, string>;
  location?: string;
  intervalMs: number;
  nvidiaSmi?: string;
  /** Where this host's workloads are reached (default: 127.0.0.1 with a loopback controller, else its first IPv4 address). */
  advertise?: string;
  /** Also act as a proxy: apply the routes the controller places on this host. */
  proxy?: boolean;
  /** HOST:PORT where it serves checkpoints to peer agents (default: the advertise address, any free port). */
  transferListen?: string;
  /** HOST:PORT peers dial for those checkpoints, when not where it listens (NAT, a port forward); default: the bound address. */
  transferAdvertise?: string;
  log: Logger;
}

export interface RunningAgent {
  readonly serverId: string;
  stop(): Promise<void>;
}

const GPU_PROBE_WAIT_MS = 2_000;
/** How often the agent looks whether its certificate is due for renewal. */
const RENEW_CHECK_MS = 3600_000;
/** How long a late nvidia-smi may still add its GPUs to the hello. */
const GPU_LATE_WAIT_MS = 60_000;

/** `yard agent`: sample this host and keep a session with the controller, whatever it does. */
export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const files = agentFiles(opts.dataDir);
  await ensurePrivateDir(opts.dataDir); // it holds workloads' specs and state
  const release = await claimPidFile(files.pid);
  await removeTransferLeftovers(opts.dataDir, opts.log);
  const serverId = await loadOrCreateServerId(files.identity);
  const host = await describeHost();
  const tls = await AgentTls.open({
    dataDir: opts.dataDir,
    controller: opts.controllers,
    joinToken: opts.joinToken,
    serverId,
    hostname: host.hostname,
    name: opts.name ?? '',
    log: opts.log,
  }).catch(async (err: unknown) => {
    await release();
    throw err;
  });
  const identity = { serverId, tls };
  // A controller on loopback means a one-host setup: its workloads are reached on loopback too.
  const onLoopback = isLoopback(parseHostPort(opts.controllers[0]!, '--controller').host);
  const advertiseAddress =
    opts.advertise ?? (onLoopback ? '127.0.0.1' : (host.addresses.find((a) => !a.includes(':')) ?? '127.0.0.1'));
  const supervisor = await Supervisor.open({
    dataDir: opts.dataDir,
    serverId,
    log: opts.log,
    advertiseAddress,
    hide: filesToHide(opts.dataDir, opts.log),
  });
  const owners = new GpuOwners({
    workloads: () => supervisor.list().map((w) => ({ name: w.spec?.name ?? '', pid: w.pid })),
  });
  const sampler = createHostSampler({
    intervalMs: opts.intervalMs,
    nvidiaSmi: opts.nvidiaSmi,
    log: (level, msg) => opts.log[level](msg),
    describeGpuProcesses: (byGpu) => owners.describe(byGpu),
  });
  sampler.start();
  const transfers = new Transfers(() => session.controller, tls);
  // Checkpoints go straight to the target agent from here, TLS with this agent's certificate.
  const peers = new PeerTransferServer({ tls: () => tls.pems(), serverId, log: opts.log });
  const transferAddress = await peers
    .listen(opts.transferListen ?? formatHostPort({ host: advertiseAddress, port: 0 }))
    .then((bound) => opts.transferAdvertise ?? bound)
    .catch((err: unknown) => {
      opts.log.warn(
        `cannot serve checkpoints to peers (${errorMessage(err)}): migrations from this host go through the controller`,
      );
      return '';
    });
  // Pre-copy rounds received as a target stage under the inbox; an earlier run's leftovers go.
  const precopies = new PreCopies({ inbox: join(opts.dataDir, 'inbox'), tls: () => tls.pems(), log: opts.log });
  await precopies.sweep();
  const proxy = opts.proxy ? new RoutingProxy({ log: opts.log }) : undefined;

  // Free disk where workload state lives, for the controller's preflight (statfs is cheap, but not per sample).
  let dataFreeBytes: number | undefined;
  const refreshFree = () =>
    statfs(opts.dataDir).then(
      (s) => (dataFreeBytes = s.bavail * s.bsize),
      () => undefined,
    );
  await refreshFree();
  const freeTimer = setInterval(refreshFree, 10_000);
  const drain = (): HostSample[] => sampler.drain().map((s) => ({ ...s, dataFreeBytes }));

  // GPU memory per workload: what nvidia-smi reports of the processes that belong to it (its own and its children's).
  const gpuShares = () => gpuMemoryByWorkload(sampler.latest()?.gpus ?? []);
  const snapshot = (): Workload[] => {
    const shares = gpuShares();
    return supervisor.list().map((w) => ({ ...w, gpuMemoryMib: shares.get(w.spec?.name ?? '') ?? w.gpuMemoryMib }));
  };

  const hello = (): AgentHello => ({
    protocolVersion: PROTOCOL_VERSION,
    serverId,
    hostname: host.hostname,
    name: opts.name ?? '',
    addresses: host.addresses,
    mac: host.mac,
    labels: opts.labels,
    location: opts.location ?? '',
    capabilities: {
      gpus: sampler.gpus(),
      migrationStrategies: ['checkpoint', 'restart', 'freeze'],
      proxy: proxy !== undefined,
    },
    host: host.host,
    agentVersion: YARD_VERSION,
    advertiseAddress,
    transferAddress,
  });
  const ctx = {
    supervisor,
    transfers,
    proxy,
    peers,
    precopies,
    progress: (id: string, bytesDone: number) => session.progress(id, bytesDone),
    // The one the session is with now: a console or transfer goes where the command came from.
    get controller() {
      return session.controller;
    },
    identity,
    dataDir: opts.dataDir,
    log: opts.log,
  };
  const routeStats = proxy && (() => proxy.stats());
  const session = new AgentSession({
    controllers: opts.controllers,
    credentials: () => tls.channel(),
    hello,
    drain,
    log: opts.log,
    snapshot,
    routeStats,
    onCommand: (cmd) => runCommand(cmd, ctx),
  });
  for (const event of ['change', 'removed'] as const) supervisor.on(event, () => session.sendSnapshot());
  // A workload's GPU memory moves with nvidia-smi's processes, which the supervisor does not see.
  let sentShares = '';
  sampler.onSample(() => {
    const shares = JSON.stringify([...gpuShares()]);
    if (shares === sentShares) return;
    sentShares = shares;
    session.sendSnapshot();
  });
  // The hello lists the GPUs if nvidia-smi answers by now; a hung one never holds registration.
  await sampler.gpusProbed(GPU_PROBE_WAIT_MS);
  session.start();
  // A slow first answer (seconds, on a GPU host without persistence mode) is not waited for: once
  // nvidia-smi lists GPUs, the controller hears them in a new hello.
  if (sampler.gpus().length === 0) {
    void sampler.gpusProbed(GPU_LATE_WAIT_MS).then(() => {
      if (sampler.gpus().length > 0) session.rejoin(`nvidia-smi now lists ${sampler.gpus().length} GPUs`);
    });
  }
  // SIGCONT asks a waiting agent to dial at once (a dashboard that just started a controller
  // here sends it). An agent that is not stopped ignores it by default, so older agents are safe.
  const dialNow = () => session.dialNow();
  process.on('SIGCONT', dialNow);
  // The certificate renews itself well before it expires (a third of its life left), checked hourly.
  const renew = () =>
    void tls
      .renewIfDue(Date.now(), session.controller)
      .catch((err: unknown) =>
        opts.log.warn(`could not renew this agent's certificate (${errorMessage(err)}); trying again within the hour`),
      );
  renew();
  const renewTimer = setInterval(renew, RENEW_CHECK_MS).unref();
  opts.log.info('agent started', {
    server: serverId,
    controller: opts.controllers.join(','),
    gpus: sampler.gpus().length,
    dataDir: opts.dataDir,
    proxy: proxy !== undefined,
  });

  return {
    serverId,
    async stop() {
      clearInterval(freeTimer);
      clearInterval(renewTimer);
      process.off('SIGCONT', dialNow);
      session.stop();
      transfers.close();
      await peers.close();
      await proxy?.close();
      await supervisor.close();
      await sampler.stop();
      await release();
    },
  };
}
