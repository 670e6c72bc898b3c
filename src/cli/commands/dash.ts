import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { userInfo } from 'node:os';
import type { Argv } from 'yargs';
import { createLogger } from '../../core/log.js';
import { controllerFiles } from '../../core/paths.js';
import { controllerSettings, withControllerOptions, type ControllerArgs } from '../options.js';

interface DashArgs extends ControllerArgs {
  localAgent: boolean;
  ascii: boolean;
}

export const dashCommand = {
  command: ['dash', '$0'],
  describe: 'open the dashboard, with an embedded controller and a local agent for this host',
  builder: (y: Argv) =>
    withControllerOptions(y)
      .option('local-agent', { type: 'boolean', default: true, describe: 'start an agent for this host (--no-local-agent to skip)' })
      .option('ascii', { type: 'boolean', default: false, describe: 'draw with ASCII only (automatic when the locale is not UTF-8)' }),
  async handler(argv: DashArgs) {
    if (!process.stdout.isTTY || !process.stdin.isTTY) {
      throw new Error('the dashboard needs a terminal; for a headless controller run `yard controller`');
    }
    // Loaded here, not at the top: `yard agent` and friends never pay for the UI.
    const [{ startController }, { registryFleetSource }, { startDashboard }, { ensureLocalAgent }] = await Promise.all([
      import('../../controller/controller.js'),
      import('../../controller/fleet-source.js'),
      import('../../tui/dashboard.js'),
      import('../local-agent.js'),
    ]);
    const files = controllerFiles(argv.dataDir);
    await mkdir(argv.dataDir, { recursive: true });
    // The screen is the dashboard's: the controller logs to a file.
    const logStream = createWriteStream(files.log, { flags: 'a' });
    const log = createLogger('controller', (l) => logStream.write(l));
    const controller = await startController({ ...controllerSettings(argv), log });
    const agent = argv.localAgent ? await ensureLocalAgent(controller.address, files.localAgentDir) : undefined;
    if (agent) log.info(agent.started ? 'started the local agent' : 'reusing the running local agent', { pid: agent.pid });

    let quitting = false;
    const quit = async () => {
      if (quitting) return;
      quitting = true;
      dashboard.stop();
      await controller.stop();
      logStream.end();
      if (agent) process.stdout.write(`yard: the local agent (pid ${agent.pid}) keeps running and reconnects when a controller is back; \`kill ${agent.pid}\` stops it\n`);
      process.exit(0);
    };
    const dashboard = startDashboard({
      source: registryFleetSource(controller, controller.address, userInfo().username),
      ascii: argv.ascii,
      onQuit: () => void quit(),
    });
    process.on('SIGTERM', () => void quit());
  },
};
