// Agent cost: a real `yard agent` sampling this host at 1 Hz, measured from /proc.
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { CLIENT_OPTIONS } from '../src/core/rpc/options.js';
import {
  ControlClient,
  type GetServerRequest,
  type GetServerResponse,
  type ListServersRequest,
  type ListServersResponse,
} from '../src/gen/switchyard/v1/control.js';
import { ServerState, type Server } from '../src/gen/switchyard/v1/fleet.js';
import { ProcMonitor, sleep, tempDir, YardProcess, type ProcUsage } from './lib.js';

export interface AgentCostOptions {
  address: string;
  joinTokenFile: string;
  /** The controller's Unix socket, for the Control API. */
  control: string;
  seconds: number;
  warmupS: number;
  log: (line: string) => void;
}

export interface AgentCostResult {
  usage: ProcUsage;
  gpus: string;
  /** What the controller holds for this agent at the end. */
  online: boolean;
  cores: number;
  linesLogged: number;
  warnings: string[];
}

/** The one server the fresh controller knows, whole (ListServers leaves out per-core CPU). */
async function theServer(address: string): Promise<Server | undefined> {
  const client = new ControlClient(address, credentials.createInsecure(), CLIENT_OPTIONS);
  const call = <Req, Res>(
    fn: (req: Req, md: Metadata, o: { deadline: number }, cb: (err: ServiceError | null, res: Res) => void) => unknown,
    req: Req,
  ) =>
    new Promise<Res>((resolve, reject) =>
      fn.call(client, req, new Metadata(), { deadline: Date.now() + 10_000 }, (err, res) =>
        err ? reject(err) : resolve(res),
      ),
    );
  try {
    const { servers } = await call<ListServersRequest, ListServersResponse>(client.listServers, {
      pageSize: 0,
      pageToken: '',
    });
    if (!servers[0]) return undefined;
    return (await call<GetServerRequest, GetServerResponse>(client.getServer, { server: servers[0].id })).server;
  } finally {
    client.close();
  }
}

export async function runAgentCost(opts: AgentCostOptions): Promise<AgentCostResult> {
  const dataDir = tempDir('yard-bench-agent-');
  const agent = new YardProcess('agent', [
    'agent',
    '--controller',
    opts.address,
    '--token-file',
    opts.joinTokenFile,
    '--data-dir',
    dataDir,
    '--interval',
    '1s',
  ]);
  try {
    const started = await agent.waitForOutput(/agent started.*/, 30_000);
    await agent.waitForOutput(/connected to controller/, 15_000);
    const gpus = /gpus=(\d+)/.exec(started[0])?.[1] ?? '?';
    opts.log(
      `  agent pid ${agent.pid} connected (${gpus} GPUs); warming up ${opts.warmupS} s, then measuring ${opts.seconds} s…`,
    );
    await sleep(opts.warmupS * 1000);
    const mon = new ProcMonitor(agent.pid);
    await sleep(opts.seconds * 1000);
    const usage = mon.stop();
    const me = await theServer(opts.control);
    const warnings = agent
      .output()
      .split('\n')
      .filter((l) => /\b(WARN|ERROR)\b/.test(l))
      .slice(-5);
    return {
      usage,
      gpus,
      online: me?.state === ServerState.SERVER_STATE_ONLINE && Date.now() - (me?.lastSeenMs ?? 0) < 5000,
      cores: me?.latest?.cpuPerCorePct.length ?? 0,
      linesLogged: agent.lineCount,
      warnings,
    };
  } finally {
    await agent.kill();
  }
}
