import { homedir } from 'node:os';
import { join } from 'node:path';

/** The default data dir: $XDG_STATE_HOME/switchyard, else ~/.local/state/switchyard. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(state, 'switchyard');
}

/** Files a controller keeps in its data dir. */
export function controllerFiles(dataDir: string) {
  return {
    store: join(dataDir, 'store.json'),
    token: join(dataDir, 'token'),
    /** Written while a controller runs: where it listens and its pid. */
    runtime: join(dataDir, 'controller.json'),
    log: join(dataDir, 'controller.log'),
    localAgentDir: join(dataDir, 'agent'),
  };
}

/** Files an agent keeps in its data dir. */
export function agentFiles(dataDir: string) {
  return {
    identity: join(dataDir, 'agent.json'),
    pid: join(dataDir, 'agent.pid'),
    log: join(dataDir, 'agent.log'),
  };
}

export const DEFAULT_LISTEN = '127.0.0.1:50050';
