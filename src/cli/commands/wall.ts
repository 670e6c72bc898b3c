import type { Argv } from 'yargs';
import { parseAddressOrList } from '../../core/address.js';
import { YardError } from '../../core/errors.js';
import type { ViewName } from '../../tui/views/index.js';
import { durationArg, withCredential, withDataDir } from '../options.js';
import { exitUsage } from './workloads.js';

interface WallArgs {
  dataDir: string;
  connect?: string;
  credential?: string;
  rotate?: string;
  views?: string;
  theme?: string;
  ascii: boolean;
  config?: string;
}

/** How long the wall waits for a first snapshot before it shows the unreachable banner instead. */
const FIRST_SNAPSHOT_MS = 3000;
const DEFAULT_ROTATE_MS = 15_000;

/** --theme, --ascii, --config: the display options `yard` and `yard wall` share. */
export function withDisplayOptions<T>(y: Argv<T>) {
  return y
    .option('theme', {
      type: 'string',
      describe: "default, light, high-contrast, mono, or a path to a theme file (default: the config file's)",
    })
    .option('ascii', {
      type: 'boolean',
      default: false,
      describe: 'draw with ASCII only (automatic when the locale is not UTF-8)',
    })
    .option('config', {
      type: 'string',
      describe: 'config file (default: $XDG_CONFIG_HOME/switchyard/config.yaml, if there)',
    });
}

/** "fleet,migrations" → the views, each one a wall can show. */
function parseViews<V extends string>(text: string, valid: readonly V[]): V[] {
  const names = text
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  const unknown = names.find((v) => !valid.includes(v as V));
  if (unknown !== undefined || names.length === 0) {
    const what = unknown === undefined ? 'names no view' : `"${unknown}" is not a view a wall can show`;
    throw new YardError('INVALID_ARGUMENT', `--views ${what}: use a comma-separated list of ${valid.join(', ')}`);
  }
  return names as V[];
}

export const wallCommand = {
  command: 'wall',
  describe: 'a read-only dashboard for a wall display: big cards, pages turning on a timer, reconnecting on its own',
  builder: (y: Argv) =>
    withCredential(withDisplayOptions(withDataDir(y)))
      .option('connect', {
        type: 'string',
        describe:
          'HOST:PORT of the controller, or several as A:PORT,B:PORT tried in turn (default: the one running for --data-dir)',
      })
      .option('rotate', {
        type: 'string',
        describe: "how long each page stays (default: the config file's wall.rotate, else 15s)",
      })
      .option('views', {
        type: 'string',
        describe: 'the views to turn through, comma-separated (default: fleet,workloads,migrations,routes)',
      }),
  async handler(argv: WallArgs) {
    const [{ loadSettings, displayOptions }, { WALL_VIEWS }] = await Promise.all([
      import('../../tui/settings.js'),
      import('../../tui/views/index.js'),
    ]);
    // Everything the command line and the config file say is checked before anything starts.
    const settings = loadSettings(argv.config !== undefined ? { file: argv.config } : {});
    let rotateMs: number;
    let views: ViewName[];
    try {
      if (argv.connect !== undefined) parseAddressOrList(argv.connect, '--connect');
      rotateMs =
        argv.rotate !== undefined ? durationArg(argv.rotate, 'rotate') : (settings.wall.rotateMs ?? DEFAULT_ROTATE_MS);
      views = argv.views !== undefined ? parseViews(argv.views, WALL_VIEWS) : (settings.wall.views ?? [...WALL_VIEWS]);
    } catch (err) {
      exitUsage('wall', err);
    }
    const display = displayOptions({ ...argv, readonly: true }, settings);
    const theme = argv.theme ?? settings.wall.theme ?? settings.theme ?? 'high-contrast';
    if (!process.stdout.isTTY || !process.stdin.isTTY)
      throw new YardError('NO_TERMINAL', 'the wall display needs a terminal');

    const [{ findController }, { RemoteFleet }, { startDashboard }] = await Promise.all([
      import('../client.js'),
      import('../remote-fleet.js'),
      import('../../tui/dashboard.js'),
    ]);
    const target = await findController({
      controller: argv.connect,
      credential: argv.credential,
      dataDir: argv.dataDir,
    }).catch((err: unknown) => {
      if (err instanceof YardError && err.code === 'NO_CONTROLLER') {
        throw new YardError(
          'NO_CONTROLLER',
          `no controller running for ${argv.dataDir}: start one with \`yard controller\`, or give the wall --connect HOST:PORT`,
        );
      }
      throw err;
    });
    const source = new RemoteFleet(argv.connect !== undefined ? { ...target, from: '--connect' } : target);
    try {
      await source.ready(FIRST_SNAPSHOT_MS);
    } catch (err) {
      // Unreachable is what the wall shows (and recovers from); a refusal (a wrong token) is not.
      if (!(err instanceof YardError && err.code === 'UNAVAILABLE')) {
        source.close();
        throw err;
      }
    }
    const quit = () => {
      dashboard.stop();
      source.close();
      process.exit(0);
    };
    const dashboard = startDashboard({ source, ...display, theme, wall: { rotateMs, views }, onQuit: quit });
    process.on('SIGTERM', quit);
    process.on('SIGHUP', quit);
  },
};
