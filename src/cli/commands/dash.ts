import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { format } from 'node:util';
import type { Argv } from 'yargs';
import { parseAddressOrList } from '../../core/address.js';
import { YardError } from '../../core/errors.js';
import { createLogger, divertStderr, type Logger } from '../../core/log.js';
import { agentFiles, controllerFiles, DEFAULT_LISTEN } from '../../core/paths.js';
import { ServerState } from '../../core/types.js';
import type { FleetServer } from '../../core/fleet.js';
import type { ControllerTarget } from '../client.js';
import type { Display } from '../../tui/settings.js';
import { controllerSettings, withControllerOptions, withCredential, type ControllerArgs } from '../options.js';
import { withDisplayOptions } from './wall.js';
import { exitUsage } from './workloads.js';

interface DashArgs extends Omit<ControllerArgs, 'listen'> {
  /** Undefined unless given: then a controller already running for the data dir is attached to. */
  listen?: string;
  connect?: string;
  credential?: string;
  localAgent: boolean;
  ascii: boolean;
  theme?: string;
  readonly?: boolean;
  config?: string;
}

/** How long an attaching dashboard waits for the controller's first fleet snapshot. */
const ATTACH_TIMEOUT_MS = 5000;

export const dashCommand = {
  command: ['dash', '$0'],
  describe:
    "open the dashboard: attached to the controller running for the data dir (or --connect, or a --credential's), else with an embedded controller and a local agent",
  builder: (y: Argv) =>
    withCredential(withDisplayOptions(withControllerOptions(y)))
      .option('listen', {
        type: 'string',
        default: undefined,
        defaultDescription: DEFAULT_LISTEN,
        describe: 'HOST:PORT the embedded controller listens on; beyond loopback, agents need the join token',
      })
      .option('connect', {
        type: 'string',
        describe:
          'HOST:PORT of a running controller to attach to, or several as A:PORT,B:PORT (controllers sharing one CA: a lost one is replaced by the next); nothing is started, quitting stops nothing',
      })
      .conflicts('connect', 'listen')
      .option('local-agent', {
        type: 'boolean',
        default: true,
        describe: 'start an agent for this host (--no-local-agent to skip)',
      })
      .option('readonly', {
        type: 'boolean',
        describe: "refuse every key and command that changes the fleet (default: the config file's readonly)",
      }),
  async handler(argv: DashArgs) {
    const display = await displayOf(argv);
    if (argv.connect !== undefined) {
      try {
        parseAddressOrList(argv.connect, '--connect');
      } catch (err) {
        exitUsage('dash', err);
      }
    }
    if (!process.stdout.isTTY || !process.stdin.isTTY) {
      throw new Error('the dashboard needs a terminal; for a headless controller run `yard controller`');
    }
    const { findController } = await import('../client.js');
    if (argv.connect !== undefined) {
      const target = await findController({
        controller: argv.connect,
        credential: argv.credential,
        dataDir: argv.dataDir,
      });
      return attached({ ...target, from: '--connect' }, display);
    }
    // A credential names its controller: `yard --credential FILE` attaches there.
    if (argv.credential !== undefined || process.env.YARD_CREDENTIAL)
      return attached(await findController({ credential: argv.credential, dataDir: argv.dataDir }), display);
    // One controller per data dir: when one runs (`yard controller`, another `yard`), watch it.
    // A --listen elsewhere asks for a second one, which cannot be: say how to attach instead.
    const { readRuntime } = await import('../../controller/runtime-file.js');
    const running = await readRuntime(controllerFiles(argv.dataDir).runtime);
    if (running && argv.listen !== undefined && argv.listen !== running.address) {
      throw new YardError(
        'ALREADY_RUNNING',
        `a controller already runs for data dir ${argv.dataDir} (pid ${running.pid}, listening on ${running.address}): \`yard --data-dir ${argv.dataDir}\` attaches to it; for another controller on ${argv.listen}, give it its own --data-dir`,
      );
    }
    if (running) return attached(await findController({ credential: argv.credential, dataDir: argv.dataDir }), display);
    return embedded({ ...argv, listen: argv.listen ?? DEFAULT_LISTEN }, display);
  },
};

/** The dashboard on a running controller, through its Control API. Quitting stops nothing. */
async function attached(target: ControllerTarget, display: Display): Promise<void> {
  const [{ RemoteFleet }, { startDashboard }] = await Promise.all([
    import('../remote-fleet.js'),
    import('../../tui/dashboard.js'),
  ]);
  // Before the terminal is taken: an unreachable controller must not look like a hung `yard`.
  process.stderr.write(
    `yard: connecting to the controller at ${target.listen ?? target.address} (from ${target.from})…\n`,
  );
  const source = new RemoteFleet(target);
  try {
    await source.ready(ATTACH_TIMEOUT_MS);
  } catch (err) {
    source.close();
    throw err;
  }
  const quit = () => {
    dashboard.stop();
    source.close();
    process.exit(0);
  };
  const dashboard = startDashboard({ source, ...display, onQuit: quit });
  process.on('SIGTERM', quit);
}

/** The dashboard that is the controller: it starts one (and a local agent) and stops it on quit. */
async function embedded(argv: DashArgs & { listen: string }, display: Display): Promise<void> {
  // Loaded here, not at the top: `yard agent` and friends never pay for the UI.
  const [{ startController }, { registryFleetSource }, { startDashboard }, { ensureLocalAgent }, { operatorName }] =
    await Promise.all([
      import('../../controller/controller.js'),
      import('../../controller/fleet-source.js'),
      import('../../tui/dashboard.js'),
      import('../local-agent.js'),
      import('../client.js'),
    ]);
  const files = controllerFiles(argv.dataDir);
  await mkdir(argv.dataDir, { recursive: true });
  // The screen is the dashboard's: the controller, grpc-js and anything else on stderr log to a file.
  const logStream = createWriteStream(files.log, { flags: 'a' });
  const toLog = (l: string) => void logStream.write(l);
  const log = createLogger('controller', toLog);
  // grpc-js filters by its own verbosity (GRPC_VERBOSITY, errors only by default).
  await logGrpcTo(createLogger('grpc', toLog, 'debug'));
  const settings = controllerSettings(argv);
  // On etcd, another controller may lead: this one waits as its standby before any screen.
  if (settings.etcd)
    process.stderr.write(
      `yard: on etcd; if another controller leads, this one waits as its standby and the dashboard opens when it leads (log: ${files.log})\n`,
    );
  const controller = await startController({ ...settings, log });
  const agent = argv.localAgent
    ? await ensureLocalAgent(controller.address, files.localAgentDir, files.joinToken)
    : undefined;
  if (agent)
    log.info(agent.started ? 'started the local agent' : 'reusing the running local agent', { pid: agent.pid });

  let quitting = false;
  const quit = async () => {
    if (quitting) return;
    quitting = true;
    dashboard.stop();
    restoreStderr();
    await controller.stop();
    logStream.end();
    if (agent)
      process.stdout.write(
        `yard: the local agent (pid ${agent.pid}) keeps running and reconnects when a controller is back; \`kill ${agent.pid}\` stops it\n`,
      );
    process.exit(0);
  };
  const restoreStderr = divertStderr(createLogger('stderr', toLog));
  const source = registryFleetSource(controller, controller.address, operatorName() || 'dashboard');
  const dashboard = startDashboard({
    source,
    ...display,
    onQuit: () => void quit(),
    quitQuestion: () =>
      sharedWith(controller.watchers(), source.list(), agent ? localServerId(files.localAgentDir) : undefined),
  });
  process.on('SIGTERM', () => void quit());
}

/** The question before stopping a controller others use: who loses it, and what keeps running. */
function sharedWith(
  watching: number,
  servers: readonly FleetServer[],
  localId: string | undefined,
): string | undefined {
  const agents = servers.filter(
    ({ server }) =>
      server.id !== localId &&
      (server.state === ServerState.SERVER_STATE_ONLINE || server.state === ServerState.SERVER_STATE_DEGRADED),
  ).length;
  if (watching === 0 && agents === 0) return undefined;
  const who = [
    watching ? `${watching} other dashboard${watching === 1 ? '' : 's'} or CLI${watching === 1 ? '' : 's'}` : '',
    agents ? `${agents} agent${agents === 1 ? '' : 's'} on other hosts` : '',
  ]
    .filter(Boolean)
    .join(' and ');
  return `Quit and stop this controller? ${who} use${watching + agents === 1 ? 's' : ''} it. Workloads keep running on their hosts; agents reconnect when a controller is back.`;
}

/** The local agent's server id, once it has made one. */
function localServerId(agentDir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(agentFiles(agentDir).identity, 'utf8')) as { id?: string }).id;
  } catch {
    return undefined;
  }
}

/** Theme, glyphs, read-only and keys: the flags over the config file, checked before anything starts. */
async function displayOf(argv: DashArgs): Promise<Display> {
  const { displayOptions, loadSettings } = await import('../../tui/settings.js');
  return displayOptions(argv, loadSettings(argv.config !== undefined ? { file: argv.config } : {}));
}

/** grpc-js's own messages (it prints them with console.error by default) go to `log`. */
async function logGrpcTo(log: Logger): Promise<void> {
  const { setLogger } = await import('@grpc/grpc-js');
  const line = (message?: unknown, ...params: unknown[]) => format(message, ...params);
  setLogger({
    error: (m?: unknown, ...p: unknown[]) => log.warn(line(m, ...p)),
    info: (m?: unknown, ...p: unknown[]) => log.info(line(m, ...p)),
    debug: (m?: unknown, ...p: unknown[]) => log.debug(line(m, ...p)),
  });
}
