import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runningAgentPid } from '../agent/pidfile.js';
import { agentFiles } from '../core/paths.js';

/**
 * Starts `yard agent` for this host as its own detached process (logging to its data dir),
 * so that quitting the dashboard never stops what the agent supervises. An agent already
 * running for that data dir is reused, and told to dial at once (SIGCONT): since the last
 * controller went away it may be waiting out a backoff of up to 30 s, with this host's card
 * showing unknown meanwhile (so call this once the controller listens). The agent has the proxy
 * role, so routes can be placed on this host from the start (it costs nothing until one is).
 */
export async function ensureLocalAgent(
  controller: string,
  dataDir: string,
  joinTokenFile: string,
): Promise<{ pid: number; started: boolean }> {
  const files = agentFiles(dataDir);
  const running = await runningAgentPid(files.pid);
  if (running !== undefined) {
    process.kill(running, 'SIGCONT');
    return { pid: running, started: false };
  }
  await mkdir(dataDir, { recursive: true });
  const log = await open(files.log, 'a');
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const child = spawn(
    process.execPath,
    [main, 'agent', '--controller', controller, '--data-dir', dataDir, '--token-file', joinTokenFile, '--proxy'],
    {
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    },
  );
  child.unref();
  await log.close();
  return { pid: child.pid ?? -1, started: true };
}
