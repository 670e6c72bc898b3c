import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import type { z } from 'zod';
import { parseHostPort, parseHostPortList } from '../core/address.js';
import { parseDuration } from '../core/duration.js';
import { errorMessage } from '../core/errors.js';
import { defaultDataDir, DEFAULT_LISTEN } from '../core/paths.js';
import { printable } from '../core/printable.js';
import { labelsSchema, parseLabels } from '../core/schema/labels.js';
import { parseScrapeFile } from '../core/scrape-file.js';
import { LIMITS, describeIssue, locationSchema, serverNameSchema, validate } from '../core/validate.js';
import { FlagError, flagValue } from './fail.js';

/** --data-dir: every command has it. */
export function withDataDir<T>(y: Argv<T>) {
  return y.option('data-dir', {
    type: 'string',
    default: defaultDataDir(),
    defaultDescription: '$XDG_STATE_HOME/switchyard',
    describe: 'where the controller keeps its store, token and logs',
    coerce: pathArg('data-dir'),
  });
}

/**
 * A path flag, made absolute at the edge: a relative one would later be read from another cwd
 * (a workload runs in its state dir, and was once told a state dir relative to itself).
 */
export function pathArg(flag: string) {
  return (p: string): string => {
    if (!p.trim()) throw new FlagError(`--${flag}`, `--${flag} needs a path`);
    return resolve(p);
  };
}

/** --credential FILE: an operator's credential, for a controller on another host (TLS). */
export function withCredential<T>(y: Argv<T>) {
  return y.option('credential', {
    type: 'string',
    describe:
      "an operator's credential file (`yard access grant` makes one) to reach a controller over TCP; default $YARD_CREDENTIAL. On the controller host the CLI needs none",
  });
}

/** --controller / --credential: commands that ask a running controller. */
export function withTarget<T>(y: Argv<T>) {
  return withCredential(
    withDataDir(y).option('controller', {
      type: 'string',
      describe:
        "HOST:PORT of the controller, or several as A:PORT,B:PORT tried in turn (default: the credential's, else the one running for --data-dir, over its Unix socket)",
      coerce: (v?: string) => v && dialListArg(v, 'controller'),
    }),
  );
}

/** Options of an embedded or headless controller. */
export function withControllerOptions<T>(y: Argv<T>) {
  return withDataDir(y)
    .option('listen', {
      type: 'string',
      default: DEFAULT_LISTEN,
      describe: 'HOST:PORT to listen on (TLS; agents join with the join token, operators use credentials)',
    })
    .option('scrape-file', {
      type: 'string',
      describe: 'YAML file of hosts to poll through their exporters (scrape: [{name, url, gpu, interval}])',
    })
    .option('metrics-listen', {
      type: 'string',
      defaultDescription: 'off',
      describe: 'HOST:PORT to serve Prometheus metrics on, plain HTTP at GET /metrics (off: no listener unless given)',
    })
    .option('advertise-name', {
      type: 'string',
      array: true,
      describe:
        'another name or address clients dial this controller by (a DNS name, a NAT address), for its TLS certificate; repeatable',
    })
    .option('grace', {
      type: 'string',
      default: '30s',
      describe: 'how long a disconnected server stays before it is marked down',
    })
    .option('heartbeat', {
      type: 'string',
      default: '1s',
      describe: 'heartbeat interval the controller asks of agents (a fleet past --heartbeat-budget beats less often)',
    })
    .option('heartbeat-budget', {
      type: 'number',
      default: 2000,
      describe: 'heartbeats a second the controller takes at most: agents beat every max(--heartbeat, agents / budget)',
    })
    .option('store', {
      type: 'string',
      default: 'file',
      describe:
        'where the fleet state is kept: file (store.json in the data dir) or etcd://HOST:PORT[,HOST:PORT...], shared by several controllers',
    })
    .option('leader-ttl', {
      type: 'string',
      default: '5s',
      describe: 'with etcd: how long a leader that stopped answering keeps the lead before a standby takes over',
    })
    .option('etcd-ca', { type: 'string', describe: "etcd's CA certificate (PEM): talk TLS to etcd" })
    .option('etcd-cert', { type: 'string', describe: 'client certificate (PEM) for etcd, with --etcd-key' })
    .option('etcd-key', { type: 'string', describe: 'client key (PEM) for etcd, with --etcd-cert' })
    .option('reset-store', {
      type: 'boolean',
      default: false,
      describe: 'start with an empty store if the store file is unreadable (a copy is kept)',
    })
    .option('verify', {
      type: 'string',
      default: '3s',
      describe: 'how long a migrated workload must keep running on its target before the move is committed',
    })
    .option('max-checkpoint', {
      type: 'string',
      default: '4GiB',
      describe: 'largest checkpoint a migration may move (e.g. 512MiB, 4GiB)',
    })
    .option('cpu-limit', {
      type: 'number',
      default: 90,
      describe: 'preflight: a migration target busier than this CPU % is not eligible',
    })
    .option('autoscale-interval', {
      type: 'string',
      default: '15s',
      describe: 'how often autoscaled deployments read their metric and decide their count',
    });
}

/** "500ms", "1s", "2m" → milliseconds, more than zero; a bad value is a FlagError naming --`flag`. */
export function durationArg(text: string, flag: string): number {
  return flagValue(`--${flag}`, () => parseDuration(text, `--${flag}`));
}

/** HOST:PORT to listen on (port 0: any free one). */
export function listenArg(text: string, flag: string): string {
  flagValue(`--${flag}`, () => parseHostPort(text, `--${flag}`));
  return text;
}

/** HOST:PORT to dial: port 0 names no one. */
function dialArg(text: string, flag: string): string {
  const { port } = flagValue(`--${flag}`, () => parseHostPort(text, `--${flag}`));
  if (port === 0)
    throw new FlagError(
      `--${flag}`,
      `--${flag} "${text}" has port 0, which no controller listens on: give the port it listens on (e.g. 127.0.0.1:50050)`,
    );
  return text;
}

/**
 * HOST:PORT to dial, or several as "A:PORT,B:PORT" (controllers sharing one CA, tried in turn):
 * the list joined by single commas. One address is checked exactly as dialArg does.
 */
export function dialListArg(text: string, flag: string): string {
  if (!text.includes(',')) return dialArg(text, flag);
  return flagValue(`--${flag}`, () => parseHostPortList(text, `--${flag}`)).join(',');
}

/** The addresses of a dialListArg value. */
export function dialList(text: string): string[] {
  return text.split(',');
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
};

/** "512MiB", "4GiB", "1000000" → bytes. */
export function sizeArg(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined || Number(m[1]) <= 0)
    throw new FlagError(`--${flag}`, `--${flag} "${text}" is not a size: use e.g. 512MiB or 4GiB`);
  return Math.round(Number(m[1]) * unit);
}

export interface ControllerArgs {
  dataDir: string;
  listen: string;
  grace: string;
  heartbeat: string;
  heartbeatBudget: number;
  resetStore: boolean;
  verify: string;
  maxCheckpoint: string;
  cpuLimit: number;
  autoscaleInterval: string;
  advertiseName?: string[];
  metricsListen?: string;
  scrapeFile?: string;
  store: string;
  leaderTtl: string;
  etcdCa?: string;
  etcdCert?: string;
  etcdKey?: string;
}

/** `--scrape-file`: read and checked at start, so a bad file stops the controller before it listens. */
function scrapeFileArg(path: string) {
  const file = pathArg('scrape-file')(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new FlagError('--scrape-file', `--scrape-file ${file}: ${errorMessage(err)}`);
  }
  return { file, targets: parseScrapeFile(text, file) };
}

/** The controller options every controller-starting command shares, parsed. */
export function controllerSettings(argv: ControllerArgs) {
  return {
    dataDir: argv.dataDir,
    listen: listenArg(argv.listen, 'listen'),
    metricsListen: argv.metricsListen === undefined ? undefined : listenArg(argv.metricsListen, 'metrics-listen'),
    scrapeFile: argv.scrapeFile === undefined ? undefined : scrapeFileArg(argv.scrapeFile),
    graceMs: durationArg(argv.grace, 'grace'),
    heartbeatIntervalMs: durationArg(argv.heartbeat, 'heartbeat'),
    heartbeatBudget: heartbeatBudget(argv.heartbeatBudget),
    resetStore: argv.resetStore,
    verifyMs: durationArg(argv.verify, 'verify'),
    maxCheckpointBytes: sizeArg(argv.maxCheckpoint, 'max-checkpoint'),
    cpuLimitPct: cpuLimit(argv.cpuLimit),
    autoscaleMs: durationArg(argv.autoscaleInterval, 'autoscale-interval'),
    advertiseNames: argv.advertiseName ?? [],
    etcd: etcdSettings(argv),
    leaderTtlSeconds: leaderTtl(argv.leaderTtl),
  };
}

/**
 * `--store`: "file", or etcd://HOST:PORT[,HOST:PORT...] with its TLS files. Undefined for file.
 * A bad part is named: the scheme, an empty or portless member.
 */
function etcdSettings(argv: Pick<ControllerArgs, 'store' | 'etcdCa' | 'etcdCert' | 'etcdKey' | 'resetStore'>) {
  const text = argv.store.trim();
  const tlsFlags = [argv.etcdCa && '--etcd-ca', argv.etcdCert && '--etcd-cert', argv.etcdKey && '--etcd-key'].filter(
    Boolean,
  );
  if (text === 'file' || text === '') {
    if (tlsFlags.length) throw new FlagError(tlsFlags[0]!, `${tlsFlags.join(', ')} only apply to --store etcd://…`);
    return undefined;
  }
  const m = /^etcd:\/\/(.*)$/i.exec(text);
  if (!m)
    throw new FlagError(
      '--store',
      `--store "${text}" is not a store: use file (the default) or etcd://HOST:PORT[,HOST:PORT...]`,
    );
  if (argv.resetStore)
    throw new FlagError(
      '--reset-store',
      '--reset-store starts over from an unreadable store file; with --store etcd:// there is none (a bad etcd record names its key and how to delete it)',
    );
  const hosts = m[1]!.split(',').map((h) => h.trim());
  for (const h of hosts) {
    if (!h) throw new FlagError('--store', `--store "${text}" has an empty member: list HOST:PORT,HOST:PORT`);
    if (!/:\d+$/.test(h))
      throw new FlagError(
        '--store',
        `--store member "${h}" needs a port: etcd's clients use ${h.replace(/:$/, '')}:2379`,
      );
    const { port } = flagValue('--store', () => parseHostPort(h, '--store'));
    if (port === 0)
      throw new FlagError('--store', `--store member "${h}" has port 0: give etcd's client port, e.g. 2379`);
  }
  if (Boolean(argv.etcdCert) !== Boolean(argv.etcdKey))
    throw new FlagError(
      argv.etcdCert ? '--etcd-key' : '--etcd-cert',
      '--etcd-cert and --etcd-key go together: give both, or neither',
    );
  const read = (file: string, flag: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new FlagError(flag, `${flag} ${file}: ${errorMessage(err)}`);
    }
  };
  const credentials = argv.etcdCa
    ? {
        rootCertificate: read(argv.etcdCa, '--etcd-ca'),
        ...(argv.etcdCert && argv.etcdKey
          ? { certChain: read(argv.etcdCert, '--etcd-cert'), privateKey: read(argv.etcdKey, '--etcd-key') }
          : {}),
      }
    : undefined;
  if (!credentials && argv.etcdCert)
    throw new FlagError('--etcd-ca', '--etcd-cert needs --etcd-ca: the CA that signed the etcd members');
  return { hosts, credentials };
}

/** Whole seconds (etcd leases count in seconds), 2 to 300. */
function leaderTtl(text: string): number {
  const ms = durationArg(text, 'leader-ttl');
  if (ms % 1000 !== 0 || ms < 2000 || ms > 300_000)
    throw new FlagError(
      '--leader-ttl',
      `--leader-ttl ${text} must be whole seconds from 2s to 300s (etcd leases count in seconds)`,
    );
  return ms / 1000;
}

function heartbeatBudget(perSecond: number): number {
  if (Number.isNaN(perSecond))
    throw new FlagError(
      '--heartbeat-budget',
      '--heartbeat-budget is not a number: give heartbeats a second, e.g. 2000',
    );
  if (!Number.isInteger(perSecond) || perSecond < 1 || perSecond > 1_000_000)
    throw new FlagError(
      '--heartbeat-budget',
      `--heartbeat-budget ${perSecond} must be a whole number of heartbeats a second, from 1 to 1000000`,
    );
  return perSecond;
}

function cpuLimit(pct: number): number {
  if (Number.isNaN(pct))
    throw new FlagError('--cpu-limit', '--cpu-limit is not a number: give a percentage from 1 to 100');
  if (!Number.isFinite(pct) || pct <= 0 || pct > 100)
    throw new FlagError('--cpu-limit', `--cpu-limit ${pct} must be a percentage from 1 to 100`);
  return pct;
}

/** `value` checked against `schema`; what it refuses is a FlagError quoting the value. */
function checkFlag(schema: z.ZodType, value: string, flag: string): string {
  const r = schema.safeParse(value);
  if (!r.success) throw new FlagError(flag, `${flag} "${printable(value)}" ${describeIssue(r.error).message}`);
  return value;
}

/** --label k=v, repeatable, as `yard agent` and `yard run` take it (`.options(labelOptions(…))`); --labels, hidden, is the same flag. */
export function labelOptions(describe: string) {
  const repeatable = { type: 'string', array: true, nargs: 1, default: [] as string[] } as const;
  return { label: { ...repeatable, defaultDescription: 'none', describe }, labels: { ...repeatable, hidden: true } };
}

export interface LabelArgs {
  label?: readonly string[];
  /** The other spelling (once `yard agent`'s only one, as one comma-separated value). */
  labels?: string | readonly string[];
}

/** The labels of --label and --labels together; an error names the spelling the operator used. */
export function labelsArg(argv: LabelArgs): Record<string, string> {
  const labels = {
    ...flagValue('--labels', () => parseLabels(argv.labels ?? [], '--labels')),
    ...flagValue('--label', () => parseLabels(argv.label ?? [], '--label')),
  };
  return flagValue('--label', () => validate(labelsSchema, labels, 'labels'));
}

/**
 * `yard agent`'s --name (else this host's name), --label and --location: what the controller
 * would refuse at every reconnect is refused here, once, with exit 2.
 */
export function agentIdentity(argv: { name?: string; location?: string } & LabelArgs, host = hostname()) {
  if (argv.name === undefined && !serverNameSchema.safeParse(host).success) {
    const short = printable(host.split('.')[0]!.slice(0, LIMITS.nameLength));
    throw new FlagError(
      '--name',
      `this host's name "${printable(host)}" (${host.length} characters) cannot be a server's name, which is at most ${LIMITS.nameLength} printable characters: pass --name, e.g. --name ${short}`,
    );
  }
  return {
    name: argv.name === undefined ? undefined : checkFlag(serverNameSchema, argv.name, '--name'),
    labels: labelsArg(argv),
    location: argv.location === undefined ? undefined : checkFlag(locationSchema, argv.location, '--location'),
  };
}
