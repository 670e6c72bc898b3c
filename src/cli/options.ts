import type { Argv } from 'yargs';
import { parseDuration } from '../core/duration.js';
import { defaultDataDir, DEFAULT_LISTEN } from '../core/paths.js';

/** --data-dir: every command has it. */
export function withDataDir<T>(y: Argv<T>) {
  return y.option('data-dir', { type: 'string', default: defaultDataDir(), defaultDescription: '$XDG_STATE_HOME/switchyard', describe: 'where the controller keeps its store, token and logs' });
}

/** --controller / --token: commands that ask a running controller. */
export function withTarget<T>(y: Argv<T>) {
  return withDataDir(y)
    .option('controller', { type: 'string', describe: 'HOST:PORT of the controller (default: the one running for --data-dir)' })
    .option('token', { type: 'string', describe: 'token for a controller that listens beyond loopback (default: $YARD_TOKEN, or the data dir\'s)' });
}

/** Options of an embedded or headless controller. */
export function withControllerOptions<T>(y: Argv<T>) {
  return withDataDir(y)
    .option('listen', { type: 'string', default: DEFAULT_LISTEN, describe: 'HOST:PORT to listen on; beyond loopback, agents need the join token' })
    .option('grace', { type: 'string', default: '30s', describe: 'how long a disconnected server stays before it is marked down' })
    .option('heartbeat', { type: 'string', default: '1s', describe: 'heartbeat interval the controller asks of agents' })
    .option('reset-store', { type: 'boolean', default: false, describe: 'start with an empty store if the store file is unreadable (a copy is kept)' });
}

export function durationArg(text: string, flag: string): number {
  return parseDuration(text, `--${flag}`);
}
