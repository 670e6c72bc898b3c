import type { Argv } from 'yargs';
import { parseDuration } from '../core/duration.js';
import { YardError } from '../core/errors.js';
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
    .option('reset-store', { type: 'boolean', default: false, describe: 'start with an empty store if the store file is unreadable (a copy is kept)' })
    .option('verify', { type: 'string', default: '3s', describe: 'how long a migrated workload must keep running on its target before the move is committed' })
    .option('max-checkpoint', { type: 'string', default: '4GiB', describe: 'largest checkpoint a migration may move (e.g. 512MiB, 4GiB)' })
    .option('cpu-limit', { type: 'number', default: 90, describe: 'preflight: a migration target busier than this CPU % is not eligible' });
}

export function durationArg(text: string, flag: string): number {
  return parseDuration(text, `--${flag}`);
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, kb: 1e3, mb: 1e6, gb: 1e9 };

/** "512MiB", "4GiB", "1000000" → bytes. */
export function sizeArg(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined || Number(m[1]) <= 0) throw new YardError('INVALID_ARGUMENT', `--${flag} "${text}" is not a size: use e.g. 512MiB or 4GiB`);
  return Math.round(Number(m[1]) * unit);
}

export interface ControllerArgs {
  dataDir: string;
  listen: string;
  grace: string;
  heartbeat: string;
  resetStore: boolean;
  verify: string;
  maxCheckpoint: string;
  cpuLimit: number;
}

/** The controller options every controller-starting command shares, parsed. */
export function controllerSettings(argv: ControllerArgs) {
  return {
    dataDir: argv.dataDir,
    listen: argv.listen,
    graceMs: durationArg(argv.grace, 'grace'),
    heartbeatIntervalMs: durationArg(argv.heartbeat, 'heartbeat'),
    resetStore: argv.resetStore,
    verifyMs: durationArg(argv.verify, 'verify'),
    maxCheckpointBytes: sizeArg(argv.maxCheckpoint, 'max-checkpoint'),
    cpuLimitPct: cpuLimit(argv.cpuLimit),
  };
}

function cpuLimit(pct: number): number {
  if (!Number.isFinite(pct) || pct <= 0 || pct > 100) throw new YardError('INVALID_ARGUMENT', `--cpu-limit ${pct} must be a percentage from 1 to 100`);
  return pct;
}
