import type { ServiceError } from '@grpc/grpc-js';
import type { Argv } from 'yargs';
import type { DeploymentStatus } from '../../core/deployment.js';
import { YardError } from '../../core/errors.js';
import { DEPLOYMENT_NAME } from '../../core/deployment.js';
import { withTarget } from '../options.js';
import { MUTATION_TIMEOUT_MS, exitUsage, isCancelled, streamError } from './workloads.js';
import { readRouteText } from './routes.js';

interface TargetArgs {
  controller?: string;
  token?: string;
  dataDir: string;
}

const NAME_ARG = {
  type: 'string',
  demandOption: true,
  describe: 'the deployment (`yard deploy list` lists them)',
} as const;
const json = { type: 'boolean', default: false } as const;

function checkName(command: string, name: string): string {
  if (!DEPLOYMENT_NAME.test(name))
    exitUsage(
      command,
      `deployment name "${name}" is not valid: up to 48 letters, digits, . _ - (starting with a letter or digit)`,
    );
  return name;
}

async function connect(argv: TargetArgs, timeoutMs?: number) {
  const client = await import('../client.js');
  const format = await import('../format-deployments.js');
  const target = await client.findController(argv);
  const c = client.controlClient(target, timeoutMs);
  return { c, target, format };
}

type Connection = Awaited<ReturnType<typeof connect>>;

async function withController(
  argv: TargetArgs,
  timeoutMs: number | undefined,
  use: (conn: Connection) => Promise<void>,
) {
  const conn = await connect(argv, timeoutMs);
  try {
    await use(conn);
  } finally {
    conn.c.close();
  }
}

async function serverNames(c: Connection['c']): Promise<Map<string, string>> {
  return new Map((await c.servers()).map((s) => [s.id, s.name] as const));
}

function printStatus(conn: Connection, s: DeploymentStatus, names: Map<string, string>, asJson: boolean): void {
  process.stdout.write(
    asJson ? conn.format.toJson(conn.format.statusJson(s, names)) : conn.format.statusText(s, names),
  );
}

const applyCommand = {
  command: 'apply',
  describe: 'create or update a deployment from a YAML (or JSON) file; a changed template rolls out as a new version',
  builder: (y: Argv) =>
    withTarget(y)
      .option('file', {
        alias: 'f',
        type: 'string',
        demandOption: true,
        describe: 'the deployment file; - reads stdin',
      })
      .example('$0 deploy apply -f app.yaml', ''),
  async handler(argv: TargetArgs & { file: string }) {
    const { parseDeploymentFile } = await import('../../core/schema/deployment.js');
    const deployment = parseDeploymentFile(await readRouteText(argv.file), argv.file === '-' ? 'stdin' : argv.file);
    await withController(argv, MUTATION_TIMEOUT_MS, async (conn) => {
      const res = await conn.c.call(conn.c.client.applyDeployment, { deployment });
      process.stdout.write(`${deployment.name}: ${res.outcome}\n`);
      if (res.status) printStatus(conn, res.status, await serverNames(conn.c), false);
    });
  },
};

const listCommand = {
  command: 'list',
  describe: 'list the deployments: version, desired, running and healthy replicas',
  builder: (y: Argv) => withTarget(y).option('json', { ...json, describe: 'print a JSON array' }),
  async handler(argv: TargetArgs & { json: boolean }) {
    await withController(argv, undefined, async (conn) => {
      const { deployments } = await conn.c.call(conn.c.client.listDeployments, {});
      if (!argv.json) return void process.stdout.write(conn.format.listText(deployments));
      const names = await serverNames(conn.c);
      process.stdout.write(conn.format.toJson(deployments.map((s) => conn.format.statusJson(s, names))));
    });
  },
};

const statusCommand = {
  command: 'status <name>',
  describe: "a deployment's replicas: where each runs, its version, state and health; --watch follows it",
  builder: (y: Argv) =>
    withTarget(y)
      .positional('name', NAME_ARG)
      .option('watch', { alias: 'w', type: 'boolean', default: false, describe: 'print it again at every change' })
      .option('json', { ...json, describe: 'print JSON (with --watch, one object a line)' })
      .example('$0 deploy status web --watch', ''),
  async handler(argv: TargetArgs & { name: string; watch: boolean; json: boolean }) {
    const name = checkName('deploy status', argv.name);
    await withController(argv, undefined, async (conn) => {
      const names = await serverNames(conn.c);
      if (!argv.watch) {
        const { status } = await conn.c.call(conn.c.client.getDeployment, { name });
        if (status) printStatus(conn, status, names, argv.json);
        return;
      }
      await new Promise<void>((resolve, reject) => {
        const stream = conn.c.client.watchDeployment({ name }, conn.c.metadata);
        process.once('SIGINT', () => stream.cancel());
        stream.on('data', (r: { status?: DeploymentStatus }) => {
          if (!r.status) return;
          if (argv.json) process.stdout.write(JSON.stringify(conn.format.statusJson(r.status, names)) + '\n');
          else process.stdout.write(`${new Date().toISOString()}\n${conn.format.statusText(r.status, names)}\n`);
        });
        stream.on('end', () => resolve());
        stream.on('error', (err: ServiceError) =>
          isCancelled(err) ? resolve() : reject(streamError(err, conn.target)),
        );
      });
    });
  },
};

const scaleCommand = {
  command: 'scale <name> <replicas>',
  describe: 'set how many replicas a deployment keeps',
  builder: (y: Argv) =>
    withTarget(y)
      .positional('name', NAME_ARG)
      .positional('replicas', { type: 'string', demandOption: true, describe: 'the count, 0 or more' })
      .example('$0 deploy scale web 5', ''),
  async handler(argv: TargetArgs & { name: string; replicas: string }) {
    const name = checkName('deploy scale', argv.name);
    if (!/^\d{1,4}$/.test(String(argv.replicas)))
      exitUsage('deploy scale', `replicas "${argv.replicas}" is not a count: give a whole number, e.g. 3`);
    await withController(argv, MUTATION_TIMEOUT_MS, async (conn) => {
      const { status } = await conn.c.call(conn.c.client.scaleDeployment, { name, replicas: Number(argv.replicas) });
      process.stdout.write(`${name}: scaled to ${argv.replicas}\n`);
      if (status) printStatus(conn, status, await serverNames(conn.c), false);
    });
  },
};

const restartCommand = {
  command: 'restart <name>',
  describe: 'replace every replica with a new one, a few at a time (maxSurge / maxUnavailable), health-gated',
  builder: (y: Argv) => withTarget(y).positional('name', NAME_ARG),
  async handler(argv: TargetArgs & { name: string }) {
    const name = checkName('deploy restart', argv.name);
    await withController(argv, MUTATION_TIMEOUT_MS, async (conn) => {
      const { status } = await conn.c.call(conn.c.client.restartDeployment, { name });
      process.stdout.write(
        `${name}: v${status?.deployment?.version} rolls out; \`yard deploy status ${name} --watch\` follows it\n`,
      );
    });
  },
};

const deleteCommand = {
  command: 'delete <name>',
  describe: 'stop and remove every replica, then forget the deployment (its route stays)',
  builder: (y: Argv) => withTarget(y).positional('name', NAME_ARG),
  async handler(argv: TargetArgs & { name: string }) {
    const name = checkName('deploy delete', argv.name);
    await withController(argv, MUTATION_TIMEOUT_MS, async (conn) => {
      const { removed } = await conn.c.call(conn.c.client.deleteDeployment, { name });
      process.stdout.write(`${name}: deleted${removed.length ? `; removed ${removed.join(', ')}` : ''}\n`);
    });
  },
};

const DEPLOY_COMMANDS = 'apply, list, status, scale, restart or delete';

export const deployCommand = {
  command: 'deploy',
  describe: 'deployments: named groups of identical workloads the controller keeps counted, placed and routed',
  builder: (y: Argv) =>
    y
      .usage('$0 deploy COMMAND [options]')
      .command(applyCommand)
      .command(listCommand)
      .command(statusCommand)
      .command(scaleCommand)
      .command(restartCommand)
      .command(deleteCommand)
      .example('$0 deploy apply -f app.yaml', 'create or update the deployment in app.yaml')
      .example('$0 deploy scale web 5', ''),
  handler() {
    exitUsage('deploy', new YardError('INVALID_ARGUMENT', `name a deploy command: ${DEPLOY_COMMANDS}`));
  },
};
