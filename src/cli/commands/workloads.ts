import { randomBytes } from 'node:crypto';
import { basename, extname } from 'node:path';
import type { Argv } from 'yargs';
import { parseDuration } from '../../core/duration.js';
import { YardError, errorMessage } from '../../core/errors.js';
import { printable, printableJson } from '../../core/printable.js';
import {
  checkpointSignalSchema,
  parseWorkloadSpec,
  workloadNameSchema,
  type SpecProblem,
} from '../../core/schema/workload-spec.js';
import { describeIssue } from '../../core/validate.js';
import {
  DEFAULT_CHECKPOINT_SIGNAL,
  DEFAULT_CHECKPOINT_TIMEOUT_MS,
  restartPolicies,
  strategies,
  type WorkloadSpec,
} from '../../core/workload.js';
import type { ControllerTarget } from '../client.js';
import { EXIT_FAILED, EXIT_USAGE } from '../fail.js';
import { labelOptions, labelsArg, sizeArg, withTarget } from '../options.js';
import { answeredWorkload, knownWorkloads } from '../replies.js';

interface TargetArgs {
  controller?: string;
  token?: string;
  dataDir: string;
}

/** A wrong command line: one line naming the flag, then exit 2 (fail.ts exits 1). */
export function exitUsage(command: string, err: unknown): never {
  process.stderr.write(`yard: ${printable(errorMessage(err))}\nRun \`yard ${command} --help\` for usage.\n`);
  process.exit(EXIT_USAGE);
}

function usageError(message: string, flag: string): YardError {
  return new YardError('INVALID_ARGUMENT', message, { field: flag });
}

/** Mutations wait on an agent (a graceful stop can take its grace period), so allow more than a read. */
export const MUTATION_TIMEOUT_MS = 60_000;

// grpc-js status codes, by number: importing grpc-js here would load it for every command.
const GRPC_CANCELLED = 1;
const GRPC_UNAVAILABLE = 14;

/** A failed stream call as an operator reads it (client.ts does the same for unary calls). */
export function streamError(
  err: { code?: number; details?: string; message: string },
  target: ControllerTarget,
): YardError {
  if (err.code === GRPC_UNAVAILABLE)
    return new YardError(
      'UNAVAILABLE',
      `cannot reach the controller at ${target.address} (from ${target.from}): ${err.details ?? err.message}`,
    );
  return new YardError('RPC_FAILED', err.details || err.message);
}

export function isCancelled(err: { code?: number }): boolean {
  return err.code === GRPC_CANCELLED;
}

export function checkWorkloadName(name: string, command: string): string {
  const r = workloadNameSchema.safeParse(name);
  if (!r.success) exitUsage(command, `workload name ${describeIssue(r.error).message}`);
  return name;
}

export interface RunArgs {
  on: string;
  name?: string;
  strategy: string;
  checkpointSignal: string;
  checkpointTimeout: string;
  env: string[];
  cwd?: string;
  restart: string;
  label: string[];
  labels?: string[];
  port: string[];
  command?: string[];
  '--'?: (string | number)[];
}

/** "python3" → "python3-4f2a": the command's basename, made a valid name, plus a short suffix. */
export function defaultWorkloadName(command: string, suffix = randomBytes(2).toString('hex')): string {
  const base = basename(command, extname(command))
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 40);
  return `${base || 'workload'}-${suffix}`;
}

/** "USR1", "sigusr1", "SIGUSR1" → "SIGUSR1"; only signals a process can catch. */
export function parseSignal(text: string, flag: string): string {
  const upper = text.trim().toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const r = checkpointSignalSchema.safeParse(name);
  if (!r.success) throw usageError(`${flag} ${describeIssue(r.error).message}`, flag);
  return name;
}

function parsePairs(items: string[], flag: string, example: string): [string, string][] {
  return items.map((item) => {
    const eq = item.indexOf('=');
    if (eq <= 0) throw usageError(`${flag} "${item}" is not KEY=VALUE (e.g. ${flag} ${example})`, flag);
    return [item.slice(0, eq), item.slice(eq + 1)];
  });
}

function parsePorts(items: string[]): number[] {
  const ports = items.map((p) => {
    if (!/^\d{1,5}$/.test(p.trim())) throw usageError(`--port "${p}" is not a port number (1-65535)`, '--port');
    return Number(p);
  });
  return [...new Set(ports)];
}

function parseCheckpointTimeout(text: string): number {
  try {
    return parseDuration(text, '--checkpoint-timeout');
  } catch (err) {
    throw usageError(errorMessage(err), '--checkpoint-timeout');
  }
}

/** The flag that sets each spec field: the spec's own rules (src/core/schema) speak of the flag. */
const FLAGS: Record<string, string> = {
  name: '--name',
  command: 'the command after `--`',
  args: 'the arguments after `--`',
  env: '--env',
  cwd: '--cwd',
  labels: '--label',
  restart: '--restart',
  strategy: '--strategy',
  checkpointSignal: '--checkpoint-signal',
  checkpointTimeoutMs: '--checkpoint-timeout',
  ports: '--port',
};

function flagProblem(p: SpecProblem): YardError {
  const flag = FLAGS[p.field] ?? p.path;
  return usageError(`${flag} ${p.problem}`, flag);
}

/** Everything `yard run` was given, checked and turned into a WorkloadSpec; throws YardErrors naming the flag. */
export function parseRunArgs(argv: RunArgs): { server: string; spec: WorkloadSpec } {
  const argvCommand = (argv['--'] ?? []).map(String);
  if (argvCommand.length === 0) {
    const guess = argv.command?.length ? argv.command.join(' ') : 'COMMAND [ARGS…]';
    throw usageError(
      `give the command to run after \`--\`, so its own flags stay its own: yard run --on ${argv.on || 'SERVER'} -- ${guess}`,
      '--',
    );
  }
  if (argv.command?.length)
    throw usageError(`"${argv.command.join(' ')}" comes before \`--\`: put the whole command after it`, '--');
  const [command, ...args] = argvCommand as [string, ...string[]];
  if (!argv.on.trim()) throw usageError('--on needs a server id or name (`yard servers` lists them)', '--on');
  const spec = {
    name: argv.name ?? defaultWorkloadName(command),
    command,
    args,
    env: Object.fromEntries(parsePairs(argv.env, '--env', 'CUDA_VISIBLE_DEVICES=0')),
    cwd: argv.cwd ?? '',
    labels: labelsArg(argv),
    restart: restartPolicies.value(argv.restart, '--restart'),
    strategy: strategies.value(argv.strategy, '--strategy'),
    checkpointSignal: parseSignal(argv.checkpointSignal, '--checkpoint-signal'),
    checkpointTimeoutMs: parseCheckpointTimeout(argv.checkpointTimeout),
    ports: parsePorts(argv.port),
  };
  return { server: argv.on.trim(), spec: parseWorkloadSpec(spec, flagProblem) };
}

/** A repeatable flag, one value per use (`--env A=1 --env B=2`), never greedy. */
const repeatable = (describe: string) => ({
  type: 'string' as const,
  array: true as const,
  nargs: 1,
  default: [] as string[],
  defaultDescription: 'none',
  describe,
});

async function connect(argv: TargetArgs, timeoutMs?: number) {
  const [client, format] = await Promise.all([import('../client.js'), import('../format-workloads.js')]);
  const target = await client.findController(argv);
  const c = client.controlClient(target, timeoutMs);
  const serverNames = async () => new Map((await c.servers()).map((s) => [s.id, s.name] as const));
  return { c, target, format, serverNames };
}

/** The last bytes of a workload's output (the Logs stream without follow: one message). */
function tailOf(c: Awaited<ReturnType<typeof connect>>['c'], name: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const stream = c.client.logs({ name, follow: false, tailBytes: 8192 }, c.metadata);
    stream.on('data', (r: { data: Buffer }) => chunks.push(Buffer.from(r.data)));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    // The news of the exit stands without its output.
    stream.on('error', () => resolve(Buffer.concat(chunks)));
  });
}

export const runCommand = {
  command: 'run [command..]',
  describe: 'start a workload on a server: yard run --on SERVER [options] -- COMMAND [ARGS…]',
  builder: (y: Argv) =>
    withTarget(y)
      .usage(
        '$0 run --on SERVER [options] -- COMMAND [ARGS…]\n\nStart COMMAND as a workload supervised by the agent on SERVER, in a pty.',
      )
      .parserConfiguration({ 'populate--': true, 'parse-positional-numbers': false })
      .positional('command', {
        type: 'string',
        array: true,
        describe: 'COMMAND [ARGS…]: the command and its arguments, after --',
      })
      .option('on', { type: 'string', demandOption: true, describe: 'server id or name to run it on' })
      .option('name', {
        type: 'string',
        describe: "workload name, unique in the fleet (default: the command's basename and a short suffix)",
      })
      .option('strategy', {
        type: 'string',
        choices: strategies.all,
        default: 'checkpoint',
        describe: 'how `yard migrate` moves it',
      })
      .option('checkpoint-signal', {
        type: 'string',
        default: DEFAULT_CHECKPOINT_SIGNAL,
        describe: 'signal that asks it to save its state and exit 0',
      })
      .option('checkpoint-timeout', {
        type: 'string',
        default: `${DEFAULT_CHECKPOINT_TIMEOUT_MS / 1000}s`,
        describe: 'how long it has to save and exit (at most 1h)',
      })
      .option('env', repeatable('set KEY=VALUE in its environment (repeatable)'))
      .option('cwd', { type: 'string', describe: 'absolute working directory on the server (default: its state dir)' })
      .option('restart', {
        type: 'string',
        choices: restartPolicies.all,
        default: 'never',
        describe: 'restart it when it exits',
      })
      .options(labelOptions('label k=v (repeatable; or k=v,k2=v2)'))
      .option('port', repeatable('a port it listens on (repeatable)'))
      .option('json', { type: 'boolean', default: false, describe: 'print the workload as JSON' })
      .example('$0 run --on gpu1 --env CUDA_VISIBLE_DEVICES=0 -- python train.py --epochs 90', '')
      .example('$0 run --on web2 --strategy restart --port 8080 --restart always -- ./server', ''),
  async handler(argv: TargetArgs & RunArgs & { json: boolean }) {
    let req: ReturnType<typeof parseRunArgs>;
    try {
      req = parseRunArgs(argv);
    } catch (err) {
      exitUsage('run', err);
    }
    const { c, target, format, serverNames } = await connect(argv, MUTATION_TIMEOUT_MS);
    try {
      const started = answeredWorkload(target, await c.call(c.client.runWorkload, req), `started ${req.spec.name}`);
      const { exitedEarly, earlyExitText } = await import('../first-second.js');
      const early = await exitedEarly(started, async () =>
        knownWorkloads(target, (await c.call(c.client.listWorkloads, {})).workloads),
      );
      const workload = early ?? started;
      const names = await serverNames();
      process.stdout.write(
        argv.json
          ? printableJson(format.workloadJson(workload, names), 2) + '\n'
          : early
            ? ''
            : format.startedText(workload, names),
      );
      if (early) {
        // A clean exit 0 is a short job that finished; anything else failed to start.
        const clean = early.exitCode === 0 && !early.exitSignal;
        const text = earlyExitText(
          early,
          names.get(early.serverId) ?? early.serverId,
          await tailOf(c, early.spec.name),
        );
        (clean ? process.stdout : process.stderr).write(text);
        if (!clean) process.exitCode = EXIT_FAILED;
      }
    } finally {
      c.close();
    }
  },
};

export const psCommand = {
  command: 'ps',
  describe: 'list the workloads running across the fleet',
  builder: (y: Argv) =>
    withTarget(y).option('json', { type: 'boolean', default: false, describe: 'print a JSON array' }),
  async handler(argv: TargetArgs & { json: boolean }) {
    const { c, target, format, serverNames } = await connect(argv);
    try {
      const [reply, names] = await Promise.all([c.call(c.client.listWorkloads, {}), serverNames()]);
      const workloads = knownWorkloads(target, reply.workloads);
      process.stdout.write(
        argv.json
          ? printableJson(
              workloads.map((w) => format.workloadJson(w, names)),
              2,
            ) + '\n'
          : format.workloadsTable(workloads, names),
      );
    } finally {
      c.close();
    }
  },
};

type Change = 'stop' | 'pause' | 'resume';

function changeCommand(verb: Change, describe: string) {
  return {
    command: `${verb} <workload>`,
    describe,
    builder: (y: Argv) => {
      const b = withTarget(y).positional('workload', { type: 'string', demandOption: true, describe: 'workload name' });
      return verb === 'stop'
        ? b.option('rm', {
            type: 'boolean',
            default: false,
            describe: 'forget it too: its spec and state dir are removed',
          })
        : b;
    },
    async handler(argv: TargetArgs & { workload: string; rm?: boolean }) {
      const name = checkWorkloadName(argv.workload, verb);
      const { c, target, format, serverNames } = await connect(argv, MUTATION_TIMEOUT_MS);
      try {
        const call =
          verb === 'stop'
            ? c.call(c.client.stopWorkload, { name, remove: argv.rm ?? false })
            : verb === 'pause'
              ? c.call(c.client.pauseWorkload, { name })
              : c.call(c.client.resumeWorkload, { name });
        const [reply, names] = await Promise.all([call, serverNames()]);
        const workload = answeredWorkload(target, reply, `answered ${verb} ${name}`);
        process.stdout.write(format.stateText(workload, names));
        if (argv.rm) process.stdout.write(`removed ${name}: its spec and state dir are gone\n`);
      } finally {
        c.close();
      }
    },
  };
}

export const stopCommand = changeCommand('stop', 'stop a workload (it is not restarted); --rm forgets it too');
export const pauseCommand = changeCommand('pause', 'pause a workload in place (SIGSTOP)');
export const resumeCommand = changeCommand('resume', 'resume a paused workload (SIGCONT)');

/** "4096", "64KiB", "2MiB" → bytes, within a uint32. */
export function parseTail(text: string): number {
  const bytes = sizeArg(text, 'tail');
  if (bytes > 0xffff_ffff) throw usageError(`--tail "${text}" is more than 4 GiB`, '--tail');
  return bytes;
}

export const logsCommand = {
  command: 'logs <workload>',
  describe: "print a workload's output (its pty's recent bytes, as they were written)",
  builder: (y: Argv) =>
    withTarget(y)
      .positional('workload', { type: 'string', demandOption: true, describe: 'workload name' })
      .option('follow', {
        alias: 'f',
        type: 'boolean',
        default: false,
        describe: 'keep printing output as it comes, until Ctrl-C or the workload ends',
      })
      .option('tail', {
        type: 'string',
        describe: 'only the last BYTES of the buffer, e.g. 4096, 64KiB (default: all it keeps)',
      }),
  async handler(argv: TargetArgs & { workload: string; follow: boolean; tail?: string }) {
    const name = checkWorkloadName(argv.workload, 'logs');
    let tailBytes = 0;
    try {
      tailBytes = argv.tail === undefined ? 0 : parseTail(argv.tail);
    } catch (err) {
      exitUsage('logs', err);
    }
    const { c } = await connect(argv);
    await c.reach();
    const target = c.target;
    const stream = c.client.logs({ name, follow: argv.follow, tailBytes }, c.metadata);
    const stop = () => stream.cancel();
    process.once('SIGINT', stop);
    // `yard logs x | head` closes the pipe early: that is the reader's choice, not an error.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' ? stop() : undefined));
    try {
      await new Promise<void>((resolve, reject) => {
        stream.on('data', (r: { data: Buffer }) => {
          if (!process.stdout.write(r.data)) {
            stream.pause();
            process.stdout.once('drain', () => stream.resume());
          }
        });
        stream.on('end', resolve);
        stream.on('error', (err: { code?: number; details?: string; message: string }) =>
          isCancelled(err) ? resolve() : reject(streamError(err, target)),
        );
      });
    } finally {
      process.off('SIGINT', stop);
      c.close();
    }
  },
};
