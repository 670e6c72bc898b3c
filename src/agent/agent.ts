import { mkdir } from 'node:fs/promises';
import type { Logger } from '../core/log.js';
import { agentFiles } from '../core/paths.js';
import { PROTOCOL_VERSION, YARD_VERSION } from '../core/version.js';
import type { AgentHello } from '../gen/switchyard/v1/agent_gateway.js';
import { loadOrCreateServerId } from './identity.js';
import { describeHost } from './metrics/host.js';
import { probeGpus } from './metrics/gpu-monitor.js';
import { createHostSampler } from './metrics/sampler.js';
import { claimPidFile } from './pidfile.js';
import { AgentSession } from './session.js';

export interface AgentOptions {
  controller: string;
  dataDir: string;
  token?: string;
  name?: string;
  labels: Record<string, string>;
  location?: string;
  intervalMs: number;
  nvidiaSmi?: string;
  log: Logger;
}

export interface RunningAgent {
  readonly serverId: string;
  stop(): Promise<void>;
}

/** `yard agent`: sample this host and keep a session with the controller, whatever it does. */
export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const files = agentFiles(opts.dataDir);
  await mkdir(opts.dataDir, { recursive: true });
  const release = await claimPidFile(files.pid);
  const serverId = await loadOrCreateServerId(files.identity);
  const host = await describeHost();
  const gpus = await probeGpus(opts.nvidiaSmi ?? 'nvidia-smi');
  const sampler = createHostSampler({
    intervalMs: opts.intervalMs,
    nvidiaSmi: opts.nvidiaSmi,
    log: (level, msg) => opts.log[level](msg),
  });
  sampler.start();

  const hello = (): AgentHello => ({
    protocolVersion: PROTOCOL_VERSION,
    serverId,
    hostname: host.hostname,
    name: opts.name ?? '',
    addresses: host.addresses,
    mac: host.mac,
    labels: opts.labels,
    location: opts.location ?? '',
    capabilities: { gpus, migrationStrategies: [], proxy: false },
    host: host.host,
    agentVersion: YARD_VERSION,
    joinToken: opts.token ?? '',
  });
  const session = new AgentSession({ controller: opts.controller, hello, drain: () => sampler.drain(), log: opts.log });
  session.start();
  opts.log.info('agent started', { server: serverId, controller: opts.controller, gpus: gpus.length, dataDir: opts.dataDir });

  return {
    serverId,
    async stop() {
      session.stop();
      await sampler.stop();
      await release();
    },
  };
}
