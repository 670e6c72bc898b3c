import { readFile, stat } from 'node:fs/promises';
import type { Argv } from 'yargs';
import { parseDuration } from '../../core/duration.js';
import { YardError, errorMessage } from '../../core/errors.js';
import { printableJson } from '../../core/printable.js';
import { ROUTE_DEFAULTS, checkSteps } from '../../core/route.js';
import { parseWeights } from '../../core/schema/weights.js';
import { WORKLOAD_NAME } from '../../core/workload.js';
import type { PromoteRouteResponse } from '../../gen/switchyard/v1/control.js';
import type { ServiceError } from '@grpc/grpc-js';
import { withTarget } from '../options.js';
import { promotionUpdate, routeStates } from '../replies.js';
import { MUTATION_TIMEOUT_MS, exitUsage, isCancelled } from './workloads.js';

interface TargetArgs {
  controller?: string;
  token?: string;
  dataDir: string;
}

function usageError(message: string, field: string): YardError {
  return new YardError('INVALID_ARGUMENT', message, { field });
}

export function checkService(name: string): string {
  if (!WORKLOAD_NAME.test(name))
    throw usageError(
      `service name "${name}" is not valid: use up to 63 letters, digits, . _ - (starting with a letter or digit); \`yard routes\` lists them`,
      'service',
    );
  return name;
}

/** "5,25,50,100" → [5, 25, 50, 100], checked as a promotion's steps. */
export function parseSteps(text: string): number[] {
  const items = text.split(',').map((s) => s.trim());
  const bad = items.find((s) => !/^\d{1,3}$/.test(s));
  if (bad !== undefined)
    throw usageError(
      `--steps "${text}": "${bad}" is not a whole percentage; give rising percentages ending at 100, e.g. 5,25,50,100`,
      '--steps',
    );
  try {
    return checkSteps(items.map(Number));
  } catch (err) {
    throw usageError(errorMessage(err), '--steps');
  }
}

/** A promotion step or a drain deadline longer than this is a typo more likely than a plan. */
const MAX_WAIT_MS = 86_400_000;

/** "10s", "2m" → milliseconds, at most a day; throws a usage error naming the flag. */
export function parseWait(text: string, flag: string): number {
  let ms: number;
  try {
    ms = parseDuration(text, flag);
  } catch (err) {
    throw usageError(errorMessage(err), flag);
  }
  if (ms > MAX_WAIT_MS) throw usageError(`${flag} "${text}" is longer than a day: use e.g. 30s or 10m`, flag);
  return ms;
}

/** Route files are a few KiB; this keeps a wrong path (a log, a disk image) from filling memory. */
const MAX_ROUTE_FILE_BYTES = 4 * 2 ** 20;

function readReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return errorMessage(err);
}

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buf.length;
    if (size > MAX_ROUTE_FILE_BYTES)
      throw new Error(`more than ${MAX_ROUTE_FILE_BYTES / 2 ** 20} MiB: a route file is a few KiB`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The text of `-f FILE`, or of stdin for `-f -`. */
export async function readRouteText(file: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const where = file === '-' ? 'stdin' : file;
  try {
    if (file === '-') return await readStdin(stdin);
    const { size } = await stat(file);
    if (size > MAX_ROUTE_FILE_BYTES)
      throw new Error(
        `it is ${size} bytes, more than ${MAX_ROUTE_FILE_BYTES / 2 ** 20} MiB: a route file is a few KiB`,
      );
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new YardError('INVALID_ARGUMENT', `cannot read route file ${where}: ${readReason(err)}`, { file: where });
  }
}

/** Reads take the client's default deadline; mutations pass MUTATION_TIMEOUT_MS (placing a table waits on proxies). */
async function connect(argv: TargetArgs, timeoutMs?: number) {
  const [client, format, terminal] = await Promise.all([
    import('../client.js'),
    import('../format-routes.js'),
    import('../../tui/terminal.js'),
  ]);
  const target = await client.findController(argv);
  const c = client.controlClient(target, timeoutMs);
  const glyphs = terminal.localeIsUtf8(process.env) ? format.UNICODE_GLYPHS : format.ASCII_GLYPHS;
  return { c, target, format, glyphs, explain: client.explain };
}

type Connection = Awaited<ReturnType<typeof connect>>;

/** Runs `use` with a client of the controller, and closes it after. */
async function withController(
  argv: TargetArgs,
  timeoutMs: number | undefined,
  use: (conn: Connection) => Promise<void>,
): Promise<void> {
  const conn = await connect(argv, timeoutMs);
  try {
    await use(conn);
  } finally {
    conn.c.close();
  }
}

/** Runs a handler's argument checks; a bad argument exits 2 with the command's --help hint. */
function checked<T>(command: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    exitUsage(command, err);
  }
}

const json = { type: 'boolean', default: false } as const;
const SERVICE_ARG = { type: 'string', demandOption: true, describe: 'the service (`yard routes` lists them)' } as const;

export const routesCommand = {
  command: 'routes',
  describe: 'list the routes: each service, where its traffic goes, and how it is going',
  builder: (y: Argv) =>
    withTarget(y)
      .option('json', {
        ...json,
        describe: 'print a JSON array (each route as a route file writes it, with its live counters)',
      })
      .example('$0 routes', 'one block per service, a row per backend')
      .example("$0 routes --json | jq '.[].endpoints[] | {key, health}'", ''),
  async handler(argv: TargetArgs & { json: boolean }) {
    await withController(argv, undefined, async ({ c, target, format, glyphs }) => {
      const [listed, { servers }] = await Promise.all([
        c.call(c.client.listRoutes, {}),
        c.servers().then((servers) => ({ servers })),
      ]);
      const routes = routeStates(target, listed.routes);
      const names = new Map(servers.map((s) => [s.id, s.name] as const));
      process.stdout.write(
        argv.json ? printableJson(routes.map(format.routeJson), 2) + '\n' : format.routesText(routes, names, glyphs),
      );
    });
  },
};

const applyCommand = {
  command: 'apply',
  describe: 'create or replace routes from a JSON or YAML file (all or none)',
  builder: (y: Argv) =>
    withTarget(y)
      .option('file', {
        alias: 'f',
        type: 'string',
        demandOption: true,
        describe: 'the route file (JSON or YAML); - reads stdin',
      })
      .option('dry-run', {
        type: 'boolean',
        default: false,
        describe: 'check the file with the controller and print what would change; change nothing',
      })
      .example('$0 route apply -f web.yaml', '')
      .example('$0 route apply -f web.yaml --dry-run', 'what would change')
      .example('cat web.json | $0 route apply -f -', ''),
  async handler(argv: TargetArgs & { file: string; dryRun: boolean }) {
    const { parseRouteFile } = await import('../../core/schema/route-file.js');
    const routes = parseRouteFile(await readRouteText(argv.file), argv.file === '-' ? 'stdin' : argv.file);
    await withController(argv, MUTATION_TIMEOUT_MS, async ({ c, target, format, glyphs }) => {
      const outcomes = argv.dryRun
        ? await Promise.all([
            c.call(c.client.applyRoutes, { routes, dryRun: true }),
            c.call(c.client.listRoutes, {}),
          ]).then(([, now]) => format.plannedOutcomes(routes, routeStates(target, now.routes)))
        : await c
            .call(c.client.applyRoutes, { routes, dryRun: false })
            .then((res) =>
              format.appliedOutcomes(routes, { changes: res.changes, routes: routeStates(target, res.routes) }),
            );
      process.stdout.write(format.applyText(outcomes, argv.dryRun, glyphs));
    });
  },
};

const weightCommand = {
  command: 'weight <service> <weights..>',
  describe: 'set the weight of each version of a service (0-100)',
  builder: (y: Argv) =>
    withTarget(y)
      // yargs fills a variadic positional as a repeated flag: main.ts's last-one-wins would keep one pair.
      .parserConfiguration({ 'duplicate-arguments-array': true })
      .positional('service', SERVICE_ARG)
      .positional('weights', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'VERSION=PCT pairs, e.g. blue=80 green=20',
      })
      .example('$0 route weight web blue=80 green=20', 'send a fifth of the traffic to green')
      .example('$0 route weight web green=0', 'green drains: no new connections, open ones finish'),
  async handler(argv: TargetArgs & { service: string; weights: string[] }) {
    const { service, weights } = checked('route weight', () => ({
      service: checkService(argv.service),
      weights: parseWeights(argv.weights.map(String)),
    }));
    await withController(argv, MUTATION_TIMEOUT_MS, async ({ c, format, glyphs }) => {
      const { change } = await c.call(c.client.setRouteWeights, { service, weights });
      process.stdout.write(format.changeText(change, service, 'weights set', glyphs));
    });
  },
};

const PROMOTE_EPILOG = `Exit codes:
    0  done: the version takes all the traffic
    1  reverted (a backend of the version failed its health gate; the table is back where it
       started), or another error
    2  the command line was wrong
  130  interrupted while watching (the promotion itself goes on in the controller)`;

const promoteCommand = {
  command: 'promote <service> <version>',
  describe: 'shift traffic to a version in steps, each gated on its health; reverts on failure',
  builder: (y: Argv) =>
    withTarget(y)
      .positional('service', SERVICE_ARG)
      // The positional is the route's version label, not yard's own --version flag.
      .version(false)
      .positional('version', {
        type: 'string',
        demandOption: true,
        describe: 'the version label to promote, e.g. green',
      })
      .option('steps', {
        type: 'string',
        default: ROUTE_DEFAULTS.promoteSteps.join(','),
        describe: 'percent of the traffic at each step, rising, ending at 100',
      })
      .option('interval', {
        type: 'string',
        default: `${ROUTE_DEFAULTS.promoteIntervalMs / 1000}s`,
        describe: 'how long each step is watched before its health gate passes',
      })
      .example('$0 route promote web green', '5%, 25%, 50%, 100%, ten seconds each')
      .example('$0 route promote web green --steps 10,100 --interval 1m', '')
      .epilog(PROMOTE_EPILOG),
  async handler(argv: TargetArgs & { service: string; version: string; steps: string; interval: string }) {
    const req = checked('route promote', () => ({
      service: checkService(argv.service),
      version: String(argv.version),
      steps: parseSteps(argv.steps),
      intervalMs: parseWait(argv.interval, '--interval'),
    }));
    await withController(argv, undefined, async (conn) => {
      await conn.c.reach();
      process.exitCode = await watchPromotion({ ...conn, target: conn.c.target }, req);
    });
  },
};

interface PromoteRequest {
  service: string;
  version: string;
  steps: number[];
  intervalMs: number;
}

/** Prints each step as the controller streams it; resolves to the exit code (0 done, 1 reverted). */
function watchPromotion({ c, target, format, glyphs, explain }: Connection, req: PromoteRequest): Promise<number> {
  const stream = c.client.promoteRoute(req, c.metadata);
  let open = false;
  let interrupted = false;
  const onInterrupt = () => {
    interrupted = true;
    stream.cancel();
  };
  process.once('SIGINT', onInterrupt);
  return new Promise<number>((resolve, reject) => {
    let code: number | undefined;
    const finish = (err?: YardError) => {
      process.off('SIGINT', onInterrupt);
      if (open) process.stdout.write('\n');
      open = false;
      if (interrupted) {
        process.stderr.write('the promotion goes on in the controller; `yard routes` shows it\n');
        process.exit(130);
      }
      if (err) return reject(err);
      if (code === undefined) {
        return reject(
          new YardError(
            'WATCH_ENDED',
            `the controller stopped reporting the promotion of ${req.version} on ${req.service}; it may still run: \`yard routes\` shows it`,
          ),
        );
      }
      resolve(code);
    };
    stream.on('data', (p: PromoteRouteResponse) => {
      const step = format.promotionProgress(promotionUpdate(target, p), req.version, open, glyphs);
      process.stdout.write(step.text);
      open = step.open;
      code = step.exitCode ?? code;
    });
    stream.on('end', () => finish());
    stream.on('error', (err: ServiceError) => finish(isCancelled(err) ? undefined : explain(err, target)));
  });
}

/** A route command that names one service and changes it (rollback, delete): what `change` says is printed. */
function serviceChange(
  verb: string,
  describe: string,
  example: [string, string],
  change: (conn: Connection, service: string) => Promise<string>,
) {
  return {
    command: `${verb} <service>`,
    describe,
    builder: (y: Argv) =>
      withTarget(y)
        .positional('service', SERVICE_ARG)
        .example(...example),
    async handler(argv: TargetArgs & { service: string }) {
      const service = checked(`route ${verb}`, () => checkService(argv.service));
      await withController(
        argv,
        MUTATION_TIMEOUT_MS,
        async (conn) => void process.stdout.write(await change(conn, service)),
      );
    },
  };
}

const rollbackCommand = serviceChange(
  'rollback',
  "restore a service's table from before its last change (a whole promotion is undone at once)",
  ['$0 route rollback web', '`yard route history web` shows what it goes back to'],
  async ({ c, format, glyphs }, service) =>
    format.changeText((await c.call(c.client.rollbackRoute, { service })).change, service, 'rolled back', glyphs),
);

const drainCommand = {
  command: 'drain <service> <backend>',
  describe: 'drain backends of a service: no new connections, open ones finish up to a deadline',
  builder: (y: Argv) =>
    withTarget(y)
      .positional('service', SERVICE_ARG)
      .positional('backend', {
        type: 'string',
        demandOption: true,
        describe: 'a version label, workload name or HOST:PORT naming the backends',
      })
      .option('deadline', {
        type: 'string',
        describe: "how long open connections may last (default: the route's drain timeout)",
      })
      .example('$0 route drain web blue', 'every backend of version blue')
      .example('$0 route drain web 10.0.0.7:9000 --deadline 2m', ''),
  async handler(argv: TargetArgs & { service: string; backend: string; deadline?: string }) {
    const req = checked('route drain', () => {
      const backend = String(argv.backend).trim();
      if (!backend) throw usageError('BACKEND must name a version, a workload or HOST:PORT', 'backend');
      return {
        service: checkService(argv.service),
        backend,
        deadlineMs: argv.deadline === undefined ? 0 : parseWait(argv.deadline, '--deadline'),
      };
    });
    await withController(argv, MUTATION_TIMEOUT_MS, async ({ c, format, glyphs }) => {
      const { change } = await c.call(c.client.drainBackend, req);
      process.stdout.write(format.drainText(change, req.service, req.backend, glyphs));
    });
  },
};

const deleteCommand = serviceChange(
  'delete',
  'delete a service: its proxy stops listening and its connections close',
  ['$0 route delete web', ''],
  async ({ c, format }, service) =>
    format.deleteText((await c.call(c.client.deleteRoute, { service })).change, service),
);

const historyCommand = {
  command: 'history [service]',
  describe: 'list the changes to the routes, newest first: when, who, what, and the weights before and after',
  builder: (y: Argv) =>
    withTarget(y)
      .positional('service', { type: 'string', describe: 'only this service (default: every one)' })
      .option('limit', { type: 'number', default: 50, describe: 'at most this many changes (0: every one kept)' })
      .option('json', { ...json, describe: 'print a JSON array (tables before and after as route files write them)' })
      .example('$0 route history web --limit 5', ''),
  async handler(argv: TargetArgs & { service?: string; limit: number; json: boolean }) {
    const req = checked('route history', () => {
      if (!Number.isInteger(argv.limit) || argv.limit < 0 || argv.limit > 0xffff_ffff)
        throw usageError(`--limit ${argv.limit} must be a whole number, 0 or more`, '--limit');
      return { service: argv.service === undefined ? '' : checkService(argv.service), limit: argv.limit };
    });
    await withController(argv, undefined, async ({ c, format, glyphs }) => {
      const { changes } = await c.call(c.client.listRouteChanges, req);
      process.stdout.write(
        argv.json ? printableJson(changes.map(format.historyJson), 2) + '\n' : format.historyText(changes, glyphs),
      );
    });
  },
};

const ROUTE_COMMANDS = 'apply, weight, promote, rollback, drain, delete or history';

export const routeCommand = {
  command: 'route',
  describe: 'change the routes: apply a file, set weights, promote, roll back, drain, delete; history',
  builder: (y: Argv) =>
    y
      .usage(
        '$0 route COMMAND [options]\n\nChange the routing tables that proxy agents apply. `yard routes` shows them.',
      )
      .command(applyCommand)
      .command(weightCommand)
      .command(promoteCommand)
      .command(rollbackCommand)
      .command(drainCommand)
      .command(deleteCommand)
      .command(historyCommand)
      .example('$0 route apply -f web.yaml', 'create or update the services in web.yaml')
      .example('$0 route promote web green', 'shift web to green in health-gated steps'),
  handler() {
    exitUsage('route', `name a route command: ${ROUTE_COMMANDS}`);
  },
};
