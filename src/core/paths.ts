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
    /** The join secret: admits new agents, nothing else (`yard token rotate` replaces it). */
    token: join(dataDir, 'token'),
    /** The whole join token agents are given: `yard1.<secret>.sha256:<CA pin>`. */
    joinToken: join(dataDir, 'join-token'),
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
    /** While a controller on etcd waits as a standby: its pid and the leader's address. */
    standby: join(dataDir, 'standby.json'),
    log: join(dataDir, 'controller.log'),
    localAgentDir: join(dataDir, 'agent'),
  };
}

/** Files an agent keeps in its data dir. */
export function agentFiles(dataDir: string) {
  return {
    identity: join(dataDir, 'agent.json'),
    /** The key this agent made for itself (0600): its certificate is for this key. */
    key: join(dataDir, 'agent.key'),
    /** Its client certificate, issued by the controller's CA when it joined, renewed by itself. */
    cert: join(dataDir, 'agent.crt'),
    /** The controller's CA, as pinned by the join token: the only root this agent trusts. */
    caCert: join(dataDir, 'ca.crt'),
    pid: join(dataDir, 'agent.pid'),
    log: join(dataDir, 'agent.log'),
  };
}

export const DEFAULT_LISTEN = '127.0.0.1:50050';
