import type { Argv } from 'yargs';
import type { ServiceError } from '@grpc/grpc-js';
import { YardError, errorMessage } from '../../core/errors.js';
import { PRECOPY_DEFAULT_WORDS } from '../../core/format/migration.js';
import { durationText, settingText } from '../../core/format/time.js';
import { printable, printableJson } from '../../core/printable.js';
import { MigrationStrategy, migrationDone, phaseWords, strategies, type Migration } from '../../core/workload.js';
import type { ControllerTarget } from '../client.js';
import { durationArg, withTarget } from '../options.js';
import { migrationPlan } from '../replies.js';
import { MUTATION_TIMEOUT_MS, checkWorkloadName, exitUsage, streamError } from './workloads.js';

interface MigrateArgs {
  controller?: string;
  token?: string;
  dataDir: string;
  workload: string;
  to?: string;
  strategy?: string;
  precopy?: boolean;
  dryRun: boolean;
  detach: boolean;
  wait?: boolean;
  reconnectFor: string;
  json: boolean;
}

/** `yard migrate --detach`: the migration was started and goes on on the controller. */
const EXIT_STARTED = 0;
/** The controller stayed unreachable past --reconnect-for: how the migration ends is unknown. */
const EXIT_OUTCOME_UNKNOWN = 5;

const EPILOG = `Exit codes:
    0  committed: the workload runs on the target (--dry-run: every check passes;
       --detach: the migration started)
    1  it could not be started, or another error (--dry-run: a check fails)
    2  the command line was wrong
    3  rolled back: the workload keeps running on its source, from the same checkpoint
    4  failed
    5  the controller stayed unreachable past --reconnect-for: the outcome is unknown
  130  interrupted while watching (the migration itself goes on)

It waits until the migration ends: on a terminal it redraws one progress line, otherwise it
prints one JSON line per change. If the controller restarts meanwhile, it reconnects (saying so
on stderr) and reports how the migration ended. --detach returns once it has started, printing
the migration (as JSON when not on a terminal or with --json).`;

type Format = typeof import('../format-workloads.js');
type Client = typeof import('../client.js');
type Names = ReadonlyMap<string, string>;
type Control = ReturnType<Client['controlClient']>;

export const migrateCommand = {
  command: 'migrate <workload>',
  describe: 'move a workload to another server (checkpoint, transfer, restore), or check that it could',
  builder: (y: Argv) =>
    withTarget(y)
      .usage(
        '$0 migrate WORKLOAD --to SERVER [options]\n\nMove a running workload to another server, or check that it could (--dry-run).',
      )
      .positional('workload', { type: 'string', demandOption: true, describe: 'workload name' })
      .option('to', {
        type: 'string',
        describe: 'target server id or name (with --dry-run, optional: rank the targets only)',
      })
      .option('strategy', {
        type: 'string',
        choices: strategies.all,
        describe: "checkpoint, restart or freeze (default: the workload's own)",
      })
      .option('precopy', {
        type: 'boolean',
        describe: `copy the state dir to the target while the workload still runs, so only what changed moves once it has saved: downtime close to its own save time for large state files that rarely change (model weights, datasets, periodic checkpoints). Default: ${PRECOPY_DEFAULT_WORDS}; --no-precopy turns it off. checkpoint strategy only`,
      })
      .option('dry-run', {
        type: 'boolean',
        default: false,
        describe: 'run the preflight checks and rank the targets; move nothing',
      })
      .option('detach', {
        type: 'boolean',
        default: false,
        describe: 'return once the migration has started (exit 0) instead of waiting for it to end',
      })
      .option('wait', {
        type: 'boolean',
        hidden: true,
        describe: 'wait until it ends: the default (--no-wait is --detach)',
      })
      .option('reconnect-for', {
        type: 'string',
        default: '1m',
        describe: 'while waiting, how long to keep reconnecting to a controller that went away (e.g. restarting)',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON (while watching: one line per change)' })
      .epilog(EPILOG),
  async handler(argv: MigrateArgs) {
    const workload = checkWorkloadName(argv.workload, 'migrate');
    if (!argv.dryRun && !argv.to)
      exitUsage('migrate', 'missing --to SERVER: where to move it (`yard migrate NAME --dry-run` ranks the targets)');
    if (argv.to !== undefined && !argv.to.trim()) exitUsage('migrate', '--to needs a server id or name');
    const strategy = argv.strategy
      ? strategies.value(argv.strategy, '--strategy')
      : MigrationStrategy.MIGRATION_STRATEGY_UNSPECIFIED;
    // The controller pre-copies ahead of a checkpoint signal only: restart moves no state, freeze stops before it copies.
    if (
      argv.precopy &&
      strategy !== MigrationStrategy.MIGRATION_STRATEGY_UNSPECIFIED &&
      strategy !== MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT
    )
      exitUsage(
        'migrate',
        `--precopy applies to the checkpoint strategy only, not --strategy ${strategies.name(strategy)}: drop --precopy, or use --strategy checkpoint`,
      );
    const reconnectMs = durationArg(argv.reconnectFor, 'reconnect-for');
    const detach = argv.detach || argv.wait === false;
    const [client, format] = await Promise.all([import('../client.js'), import('../format-workloads.js')]);
    const target = await client.findController(argv);
    const c = client.controlClient(target, MUTATION_TIMEOUT_MS);
    let names: Names;
    let migration: Migration | undefined;
    try {
      names = new Map((await c.servers()).map((s) => [s.id, s.name] as const));
      const req = { workload, target: argv.to ?? '', strategy };
      if (argv.dryRun) {
        process.exitCode = await dryRun(c, target, format, names, req, argv.json);
        return;
      }
      migration = (await c.call(c.client.startMigration, { ...req, precopy: argv.precopy })).migration;
      if (!migration)
        throw new YardError('RPC_FAILED', `the controller started migrating ${workload} but sent no migration back`);
    } finally {
      c.close();
    }
    const tty = Boolean(process.stdout.isTTY) && !argv.json;
    if (detach) {
      process.stdout.write(
        tty ? startedText(migration, names) : printableJson(format.migrationJson(migration, names), 2) + '\n',
      );
      process.exitCode = EXIT_STARTED;
      return;
    }
    const connect = async () => {
      const t = await client.findController(argv);
      return { target: t, c: client.controlClient(t, MUTATION_TIMEOUT_MS) };
    };
    try {
      const last = await follow(connect, migration, new Progress(format, names, tty), reconnectMs);
      process.exitCode = format.exitCodeForPhase(last.phase);
    } catch (err) {
      if (!(err instanceof YardError) || err.code !== 'CONTROLLER_LOST') throw err;
      process.stderr.write(`yard: ${printable(err.message)}\n`);
      process.exitCode = EXIT_OUTCOME_UNKNOWN;
    }
  },
};

async function dryRun(
  c: Control,
  target: ControllerTarget,
  format: Format,
  names: Names,
  req: { workload: string; target: string; strategy: MigrationStrategy },
  json: boolean,
): Promise<number> {
  const plan = migrationPlan(target, await c.call(c.client.planMigration, req));
  const passes = format.planPasses(plan, req.target || undefined);
  if (json) {
    process.stdout.write(printableJson({ passes, ...format.planJson(plan, names) }, 2) + '\n');
  } else {
    const { localeIsUtf8 } = await import('../../tui/terminal.js');
    const marks = localeIsUtf8(process.env) ? format.UNICODE_MARKS : format.ASCII_MARKS;
    process.stdout.write(
      format.planText(plan, names, req.target ? (names.get(req.target) ?? req.target) : undefined, marks),
    );
  }
  return passes ? 0 : 1;
}

/** What the operator sees while waiting: a redrawn progress line, or one JSON line per change. */
class Progress {
  private readonly out = process.stdout;
  private readonly rate: InstanceType<Format['TransferRate']>;
  private readonly startedMs = Date.now();
  private rateBps: number | undefined;
  private lastLine = '';
  private timer: NodeJS.Timeout | undefined;
  last: Migration | undefined;

  constructor(
    private readonly format: Format,
    private readonly names: Names,
    private readonly tty: boolean,
  ) {
    this.rate = new format.TransferRate();
    if (tty) this.timer = setInterval(() => this.draw(), 250);
  }

  update(m: Migration): void {
    this.last = m;
    // Each pre-copy round and the move after the save have rates of their own: none carries over.
    this.rateBps = this.rate.update(m, Date.now());
    if (this.tty) {
      this.draw();
      return;
    }
    // A reconnect sends the current state again: print a change once.
    const line = printableJson(this.format.migrationJson(m, this.names));
    if (line !== this.lastLine) this.out.write(line + '\n');
    this.lastLine = line;
  }

  /** A notice on stderr, below the progress line rather than through it. */
  note(text: string): void {
    if (this.tty) this.out.write('\n');
    process.stderr.write(printable(text) + '\n');
  }

  end(): void {
    clearInterval(this.timer);
    if (!this.last) return;
    if (this.tty) {
      this.draw();
      this.out.write('\n');
    }
    if (migrationDone(this.last.phase))
      (this.tty ? this.out : process.stderr).write(this.format.timingsText(this.last, this.names));
  }

  private draw(): void {
    if (this.last)
      this.out.write(
        `\r\x1b[2K${this.format.progressLine(this.last, { now: Date.now(), columns: this.out.columns || 80, rateBps: this.rateBps, startedMs: this.startedMs })}`,
      );
  }
}

type Connect = () => Promise<{ target: ControllerTarget; c: Control }>;
type Watched = { kind: 'ended' } | { kind: 'lost'; why: string } | { kind: 'refused'; err: YardError };

/**
 * Follows the migration until it ends and returns its last state. The coordinator journals
 * every phase, so a controller that restarts finishes or rolls back the migration on its own:
 * losing the controller is no outcome, and it reconnects (for up to `reconnectMs`) to learn it.
 */
async function follow(connect: Connect, first: Migration, view: Progress, reconnectMs: number): Promise<Migration> {
  const { errorDetailOf } = await import('../../core/rpc/errors.js');
  let cancel: (() => void) | undefined;
  const onInterrupt = () => {
    cancel?.();
    view.end();
    process.stderr.write(`stopped watching migration ${first.id}; it goes on on the controller\n`);
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  view.update(first);
  let lostSinceMs: number | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      let watched: Watched;
      try {
        const { target, c } = await connect();
        watched = await watchOnce(
          c,
          target,
          first.id,
          errorDetailOf,
          (m) => {
            if (lostSinceMs !== undefined)
              view.note(
                `reconnected to the controller at ${target.address} after ${durationText(Date.now() - lostSinceMs)}; migration ${m.id} is ${phaseWords(m.phase)}`,
              );
            lostSinceMs = undefined;
            attempt = 0;
            view.update(m);
          },
          (fn) => (cancel = fn),
        );
        c.close();
      } catch (err) {
        watched = { kind: 'lost', why: errorMessage(err) };
      }
      const last = view.last!;
      if (watched.kind === 'refused') throw watched.err;
      if (watched.kind === 'ended' && migrationDone(last.phase)) return last;
      const why = watched.kind === 'lost' ? watched.why : 'the controller stopped reporting it';
      const now = Date.now();
      if (lostSinceMs === undefined) {
        lostSinceMs = now;
        view.note(
          `lost the controller (${why}) while migration ${last.id} was ${phaseWords(last.phase)}; it goes on there: reconnecting for up to ${settingText(reconnectMs)}`,
        );
      } else if (now - lostSinceMs >= reconnectMs) {
        throw new YardError(
          'CONTROLLER_LOST',
          `could not reach the controller for ${durationText(now - lostSinceMs)} (${why}); migration ${last.id} of ${last.workload} was ${phaseWords(last.phase)}, and how it ends is unknown: once the controller is back, \`yard ps\` shows where ${last.workload} runs`,
        );
      }
      await new Promise((r) =>
        setTimeout(r, Math.min(250 * 2 ** attempt, 2000, Math.max(0, (lostSinceMs ?? now) + reconnectMs - now))),
      );
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    view.end();
  }
}

/** One WatchMigration stream: how it ended. An answer from the controller is final; silence is not. */
function watchOnce(
  c: Control,
  target: ControllerTarget,
  id: string,
  errorDetailOf: typeof import('../../core/rpc/errors.js').errorDetailOf,
  onMigration: (m: Migration) => void,
  onCancel: (cancel: () => void) => void,
): Promise<Watched> {
  return new Promise((resolve) => {
    const stream = c.client.watchMigration({ id }, c.metadata);
    onCancel(() => stream.cancel());
    stream.on('data', (r: { migration?: Migration }) => r.migration && onMigration(r.migration));
    stream.on('end', () => resolve({ kind: 'ended' }));
    stream.on('error', (err: ServiceError) => {
      const refused =
        errorDetailOf(err) !== undefined || err.code === GRPC_PERMISSION_DENIED || err.code === GRPC_UNAUTHENTICATED;
      resolve(
        refused
          ? { kind: 'refused', err: streamError(err, target) }
          : { kind: 'lost', why: err.details || err.message },
      );
    });
  });
}

// grpc-js status codes, by number: importing grpc-js here would load it for every command.
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNAUTHENTICATED = 16;

function startedText(m: Migration, names: Names): string {
  const name = (id: string) => names.get(id) ?? id;
  const line = `started migration ${m.id}: ${m.workload} from ${name(m.sourceServerId)} to ${name(m.targetServerId)} (${strategies.name(m.strategy)}); it goes on on the controller`;
  return printable(line) + '\n';
}
