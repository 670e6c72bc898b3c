import type { Argv } from 'yargs';
import { createLogger } from '../../core/log.js';
import { controllerSettings, withControllerOptions, type ControllerArgs } from '../options.js';
import { onShutdown } from '../shutdown.js';

export const controllerCommand = {
  command: 'controller',
  describe: 'run the controller headless (for systemd): agents dial in, the CLI and dashboards attach',
  builder: (y: Argv) => withControllerOptions(y),
  async handler(argv: ControllerArgs) {
    const { startController } = await import('../../controller/controller.js');
    const log = createLogger('controller', (l) => process.stderr.write(l));
    const controller = await startController({ ...controllerSettings(argv), log });
    log.info(
      'agents join with the join token (`yard token`); operators beyond this host need a credential (`yard access grant NAME --role viewer|operator|admin`)',
    );
    onShutdown(() => controller.stop());
  },
};
