import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import type { Logger } from '../core/log.js';
import { agentFiles, controllerFiles, defaultDataDir } from '../core/paths.js';

/**
 * What a workload must not read on this host: the agent's key, and the secrets of a controller
 * whose data dir is the agent's parent (`yard`'s local agent) or the default one — its CA and
 * server keys, its join secret, and its control socket (which trusts whoever reaches it).
 * Workloads run as the agent's user, so file modes cannot keep these from them: as root, each
 * workload gets a mount namespace where they read as empty. Empty when that cannot be done,
 * with a warning saying so.
 */
export function filesToHide(dataDir: string, log: Logger): string[] {
  if (process.getuid?.() !== 0) {
    log.warn(
      `workloads run as this agent's user and could read its key (${agentFiles(dataDir).key}): run the agent as root, and each workload gets a mount namespace where the agent's and a local controller's secrets read as empty`,
    );
    return [];
  }
  const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', '--', '/bin/true'], { timeout: 5000 });
  if (probe.status !== 0) {
    log.warn(
      `cannot give workloads a mount namespace (unshare --mount: ${probe.error?.message ?? probe.stderr?.toString().trim() ?? `exit ${probe.status}`}): they could read this agent's key; install util-linux`,
    );
    return [];
  }
  const controllerDirs = [...new Set([dirname(dataDir), defaultDataDir()])];
  return [
    agentFiles(dataDir).key,
    ...controllerDirs.flatMap((dir) => {
      const f = controllerFiles(dir);
      return [f.caKey, f.serverKey, f.token, f.joinToken, f.socket, join(dir, 'operator-token')];
    }),
  ];
}
