import type { Argv } from 'yargs';
import type { ServiceError } from '@grpc/grpc-js';
import { drainDone, drainPhases, type Drain } from '../../core/drain.js';
import { YardError } from '../../core/errors.js';
import { printable, printableJson } from '../../core/printable.js';
import { durationArg, withTarget } from '../options.js';
import { exitUsage, streamError } from './workloads.js';

interface TargetArgs {
  controller?: string;
  token?: string;
  dataDir: string;
}

/** The stream ended before the drain did: it goes on in the controller, its outcome unknown here. */
const EXIT_OUTCOME_UNKNOWN = 5;

const DRAIN_EPILOG = `Exit codes:
    0  drained: every workload moved off; the host stays cordoned
    1  something was left on the host (a move failed, or the deadline passed), or another error
    2  the command line was wrong
    5  the stream to the controller was lost: the drain goes on there (\`yard drain SERVER\` again follows it)

Stateful workloads (checkpoint strategy) migrate with their state; the others restart elsewhere.
Each goes to the best-scored schedulable server (\`yard migrate NAME --dry-run\` shows the ranking).
A workload that could not move keeps running on the host. The drain runs in the controller:
interrupting this command stops nothing.`;

function serverArg(y: Argv) {
  return withTarget(y).positional('server', {
    type: 'string',
    demandOption: true,
    describe: 'its name or id (`yard servers` lists them)',
  });
}

async function cordon(argv: TargetArgs & { server: string }, cordoned: boolean): Promise<void> {
  const verb = cordoned ? 'cordon' : 'uncordon';
  if (!argv.server.trim()) exitUsage(verb, `name the server to ${verb}: \`yard servers\` lists them`);
  const { controlClient, findController } = await import('../client.js');
  const c = controlClient(await findController(argv));
  try {
    const req = { server: argv.server };
    const { server } = await c.call(cordoned ? c.client.cordonServer : c.client.uncordonServer, req);
    const name = printable(server?.name ?? argv.server);
    process.stdout.write(
      cordoned
        ? `cordoned ${name}: no new work lands on it; what runs there stays (\`yard drain ${name}\` moves it off)\n`
        : `uncordoned ${name}: it takes new work again\n`,
    );
  } finally {
    c.close();
  }
}

export const cordonCommand = {
  command: 'cordon <server>',
  describe: 'stop new work landing on a server (migration targets, yard run); what runs there stays',
  builder: serverArg,
  handler: (argv: TargetArgs & { server: string }) => cordon(argv, true),
};

export const uncordonCommand = {
  command: 'uncordon <server>',
  describe: 'let a cordoned or drained server take new work again',
  builder: serverArg,
  handler: (argv: TargetArgs & { server: string }) => cordon(argv, false),
};

interface DrainArgs extends TargetArgs {
  server: string;
  deadline: string;
  parallel: number;
  json: boolean;
}

export const drainCommand = {
  command: 'drain <server>',
  describe: 'cordon a server and move every workload off it within a deadline, then report',
  builder: (y: Argv) =>
    serverArg(y)
      .option('deadline', { type: 'string', default: '10m', describe: 'how long the moves may take in all' })
      .option('parallel', { type: 'number', default: 2, describe: 'how many workloads move at once (1-32)' })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print JSON (one line per change, then the report)',
      })
      .epilog(DRAIN_EPILOG),
  async handler(argv: DrainArgs) {
    if (!argv.server.trim()) exitUsage('drain', 'name the server to drain: `yard servers` lists them');
    const deadlineMs = durationArg(argv.deadline, 'deadline');
    if (!Number.isInteger(argv.parallel) || argv.parallel < 1 || argv.parallel > 32)
      exitUsage('drain', `--parallel must be a whole number from 1 to 32, not ${argv.parallel}`);
    const [client, format] = await Promise.all([import('../client.js'), import('../format-drain.js')]);
    const target = await client.findController(argv);
    const c = client.controlClient(target);
    try {
      const names = new Map((await c.servers()).map((s) => [s.id, s.name] as const));
      const tty = Boolean(process.stdout.isTTY) && !argv.json;
      let last: { server: string; drain: Drain } | undefined;
      // A block redrawn in place: the cursor goes back to its first line, and each line fits the
      // terminal's width (a wrapped line would throw the count off).
      let drawn = 0;
      const draw = () => {
        if (!last) return;
        const { columns = 80, rows = 24 } = process.stdout;
        const lines = format.drainLines(last.server, last.drain, names, Date.now(), columns - 1, rows - 1);
        process.stdout.write(`${drawn > 1 ? `\x1b[${drawn - 1}A` : ''}\r\x1b[J${lines.join('\n')}`);
        drawn = lines.length;
      };
      const timer = tty ? setInterval(draw, 250) : undefined;
      const ended = await new Promise<'ended' | YardError>((resolve) => {
        const stream = c.client.drainServer({ server: argv.server, deadlineMs, parallel: argv.parallel }, c.metadata);
        stream.on('data', (r: { serverId: string; drain?: Drain }) => {
          if (!r.drain) return;
          last = { server: names.get(r.serverId) ?? argv.server, drain: r.drain };
          if (tty) draw();
          else if (!drainDone(r.drain)) process.stdout.write(printableJson(format.drainJson(r.drain, names)) + '\n');
        });
        stream.on('end', () => resolve('ended'));
        stream.on('error', (err: ServiceError) => resolve(streamError(err, target)));
      });
      clearInterval(timer);
      if (tty && last) process.stdout.write('\n');
      if (ended instanceof YardError && !last) throw ended;
      if (!last || !drainDone(last.drain)) {
        process.stderr.write(
          `yard: lost the controller while draining ${printable(argv.server)}; the drain goes on there: \`yard drain ${printable(argv.server)}\` again follows it\n`,
        );
        process.exitCode = EXIT_OUTCOME_UNKNOWN;
        return;
      }
      process.stdout.write(
        tty || !argv.json
          ? format.drainReport(last.server, last.drain, names)
          : printableJson(format.drainJson(last.drain, names)) + '\n',
      );
      process.exitCode = drainPhases.name(last.drain.phase) === 'drained' ? 0 : 1;
    } finally {
      c.close();
    }
  },
};
