import type { Argv } from 'yargs';
import { YardError } from '../../core/errors.js';
import { printableJson } from '../../core/printable.js';
import { MigrationStrategy, migrationDone, migrationPhases, strategies, type Migration } from '../../core/workload.js';
import type { ControllerTarget } from '../client.js';
import { withTarget } from '../options.js';
import { MUTATION_TIMEOUT_MS, checkWorkloadName, exitUsage, isCancelled, streamError } from './workloads.js';

interface MigrateArgs {
  controller?: string;
  token?: string;
  dataDir: string;
  workload: string;
  to?: string;
  strategy?: string;
  dryRun: boolean;
  wait?: boolean;
  json: boolean;
}

const EPILOG = `Exit codes:
    0  committed: the workload runs on the target (--dry-run: every check passes)
    1  it could not be started, or another error (--dry-run: a check fails)
    2  the command line was wrong
    3  rolled back: the workload keeps running on its source, from the same checkpoint
    4  failed
  130  interrupted while watching (the migration itself goes on)

On a terminal it waits and redraws one progress line; otherwise it prints the migration as JSON
and exits at once, or with --wait prints one JSON line per change until it ends.`;

type Format = typeof import('../format-workloads.js');
type Names = ReadonlyMap<string, string>;
type Control = ReturnType<typeof import('../client.js').controlClient>;

export const migrateCommand = {
  command: 'migrate <workload>',
  describe: 'move a workload to another server (checkpoint, transfer, restore), or check that it could',
  builder: (y: Argv) =>
    withTarget(y)
      .usage('$0 migrate WORKLOAD --to SERVER [options]\n\nMove a running workload to another server, or check that it could (--dry-run).')
      .positional('workload', { type: 'string', demandOption: true, describe: 'workload name' })
      .option('to', { type: 'string', describe: 'target server id or name (with --dry-run, optional: rank the targets only)' })
      .option('strategy', { type: 'string', choices: strategies.all, describe: "checkpoint, restart or freeze (default: the workload's own)" })
      .option('dry-run', { type: 'boolean', default: false, describe: 'run the preflight checks and rank the targets; move nothing' })
      .option('wait', { type: 'boolean', describe: 'watch until it ends (default on a terminal; --no-wait to return at once)' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON (while watching: one line per change)' })
      .epilog(EPILOG),
  async handler(argv: MigrateArgs) {
    const workload = checkWorkloadName(argv.workload, 'migrate');
    if (!argv.dryRun && !argv.to) exitUsage('migrate', 'missing --to SERVER: where to move it (`yard migrate NAME --dry-run` ranks the targets)');
    if (argv.to !== undefined && !argv.to.trim()) exitUsage('migrate', '--to needs a server id or name');
    const strategy = argv.strategy ? strategies.value(argv.strategy, '--strategy') : MigrationStrategy.MIGRATION_STRATEGY_UNSPECIFIED;
    const [client, format] = await Promise.all([import('../client.js'), import('../format-workloads.js')]);
    const target = await client.findController(argv);
    const c = client.controlClient(target, MUTATION_TIMEOUT_MS);
    try {
      const names = new Map((await c.call(c.client.listServers, {})).servers.map((s) => [s.id, s.name] as const));
      const req = { workload, target: argv.to ?? '', strategy };
      if (argv.dryRun) {
        process.exitCode = await dryRun(c, format, names, req, argv.json);
        return;
      }
      const { migration } = await c.call(c.client.startMigration, req);
      if (!migration) throw new YardError('RPC_FAILED', `the controller started migrating ${workload} but sent no migration back`);
      const wait = argv.wait ?? Boolean(process.stdout.isTTY);
      if (!wait) {
        process.stdout.write(printableJson(format.migrationJson(migration, names), 2) + '\n');
        return;
      }
      const last = await watch(c, target, format, names, migration, Boolean(process.stdout.isTTY) && !argv.json);
      process.exitCode = format.exitCodeForPhase(last.phase);
    } finally {
      c.close();
    }
  },
};

async function dryRun(c: Control, format: Format, names: Names, req: { workload: string; target: string; strategy: MigrationStrategy }, json: boolean): Promise<number> {
  const plan = await c.call(c.client.planMigration, req);
  const passes = format.planPasses(plan, req.target || undefined);
  if (json) {
    process.stdout.write(printableJson({ passes, ...format.planJson(plan, names) }, 2) + '\n');
  } else {
    const { localeIsUtf8 } = await import('../../tui/terminal.js');
    const marks = localeIsUtf8(process.env) ? format.UNICODE_MARKS : format.ASCII_MARKS;
    process.stdout.write(format.planText(plan, names, req.target ? (names.get(req.target) ?? req.target) : undefined, marks));
  }
  return passes ? 0 : 1;
}

/** Follows the migration until it ends; returns its last state. */
function watch(c: Control, target: ControllerTarget, format: Format, names: Names, first: Migration, tty: boolean): Promise<Migration> {
  const out = process.stdout;
  const stream = c.client.watchMigration({ id: first.id }, c.metadata);
  const rate = new format.TransferRate();
  const startedMs = Date.now();
  let last = first;
  let rateBps: number | undefined;
  let interrupted = false;
  const draw = () => out.write(`\r\x1b[2K${format.progressLine(last, { now: Date.now(), columns: out.columns || 80, rateBps, startedMs })}`);
  const timer = tty ? setInterval(draw, 250) : undefined;
  if (tty) draw();
  const onInterrupt = () => {
    interrupted = true;
    stream.cancel();
  };
  process.once('SIGINT', onInterrupt);

  return new Promise<Migration>((resolve, reject) => {
    let finished = false;
    const finish = (err?: YardError) => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      process.off('SIGINT', onInterrupt);
      if (tty) out.write(`\r\x1b[2K${format.progressLine(last, { now: Date.now(), columns: out.columns || 80, rateBps, startedMs })}\n`);
      if (interrupted) {
        process.stderr.write(`stopped watching migration ${last.id}; it goes on on the controller\n`);
        process.exit(130);
      }
      if (err) return reject(err);
      if (!migrationDone(last.phase)) {
        return reject(new YardError('WATCH_ENDED', `the controller stopped reporting migration ${last.id} while ${migrationPhases.name(last.phase)}; it may still be running: \`yard ps\` shows where ${last.workload} runs`));
      }
      (tty ? out : process.stderr).write(format.timingsText(last, names));
      resolve(last);
    };
    stream.on('data', (r: { migration?: Migration }) => {
      if (!r.migration) return;
      last = r.migration;
      rateBps = rate.update(last, Date.now()) ?? rateBps;
      if (tty) draw();
      else out.write(printableJson(format.migrationJson(last, names)) + '\n');
    });
    stream.on('end', () => finish());
    stream.on('error', (err: { code?: number; details?: string; message: string }) => finish(isCancelled(err) ? undefined : streamError(err, target)));
  });
}
