import type { Argv } from 'yargs';
import { printableJson } from '../../core/printable.js';
import { withTarget } from '../options.js';

interface TargetArgs {
  controller?: string;
  token?: string;
  dataDir: string;
  json?: boolean;
}

export const serversCommand = {
  command: 'servers',
  describe: 'list the servers a running controller knows',
  builder: (y: Argv) =>
    withTarget(y).option('json', { type: 'boolean', default: false, describe: 'print a JSON array' }),
  async handler(argv: TargetArgs) {
    const [{ controlClient, findController }, { serverJson, serversTable }] = await Promise.all([
      import('../client.js'),
      import('../format.js'),
    ]);
    const target = await findController(argv);
    const c = controlClient(target);
    try {
      const servers = await c.servers();
      const names = new Map(servers.map((s) => [s.id, s.name] as const));
      process.stdout.write(
        argv.json
          ? printableJson(
              servers.map((s) => serverJson(s, names)),
              2,
            ) + '\n'
          : serversTable(servers),
      );
    } finally {
      c.close();
    }
  },
};

export const statusCommand = {
  command: 'status',
  describe: 'summarise the fleet of a running controller',
  builder: (y: Argv) => withTarget(y).option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
  async handler(argv: TargetArgs) {
    const [{ controlClient, findController }, { overviewText }] = await Promise.all([
      import('../client.js'),
      import('../format.js'),
    ]);
    const target = await findController(argv);
    const c = controlClient(target);
    try {
      const o = await c.call(c.client.overview, {});
      process.stdout.write(argv.json ? printableJson(o, 2) + '\n' : overviewText(o, target.address));
    } finally {
      c.close();
    }
  },
};
