import { homedir } from 'node:os';
import { join } from 'node:path';

/** The default data dir: $XDG_STATE_HOME/switchyard, else ~/.local/state/switchyard. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.XDG_STATE_HOME?.startsWith('/') ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(state, 'switchyard');
}

/** Files a controller keeps in its data dir. */
export function controllerFiles(dataDir: string) {
  return {
    store: join(dataDir, 'store.json'),
    /** The join token: admits new agents, nothing else. */
    token: join(dataDir, 'token'),
    /** The operator token: Control calls over TCP. */
    operatorToken: join(dataDir, 'operator-token'),
    /** The controller's certificate authority: its key (owner-only) signs every certificate. */
    caKey: join(dataDir, 'ca.key'),
    caCert: join(dataDir, 'ca.crt'),
    /** The controller's TLS certificate, issued by its CA and renewed by itself. */
    serverKey: join(dataDir, 'server.key'),
    serverCert: join(dataDir, 'server.crt'),
    /** Control for this host's own CLI and dashboards: owner-only, no token needed. */
    socket: join(dataDir, 'control.sock'),
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
    /** The key this agent made for itself; joining binds it to its server id (0600). */
    key: join(dataDir, 'agent.key'),
    pid: join(dataDir, 'agent.pid'),
    log: join(dataDir, 'agent.log'),
  };
}

export const DEFAULT_LISTEN = '127.0.0.1:50050';
