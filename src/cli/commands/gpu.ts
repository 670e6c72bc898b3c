import type { Argv } from 'yargs';
import { YardError } from '../../core/errors.js';
import { printableJson } from '../../core/printable.js';
import type { Server } from '../../core/types.js';
import type { controlClient } from '../client.js';
import { withTarget } from '../options.js';

interface GpuArgs {
  controller?: string;
  token?: string;
  dataDir: string;
  json?: boolean;
  server?: string;
}

/** GetServer calls in flight at once: a large fleet is asked a few hosts at a time. */
const PARALLEL = 8;

/**
 * The hosts with GPUs, each with its whole latest sample: a server list leaves GPU processes
 * out (it stays small for thousands of hosts), so each GPU host is asked on its own.
 */
async function gpuHosts(c: ReturnType<typeof controlClient>, hasGpus: (s: Server) => boolean): Promise<Server[]> {
  const listed = (await c.servers()).filter(hasGpus);
  const whole: (Server | undefined)[] = new Array(listed.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < listed.length; i = next++) {
      whole[i] = await c.call(c.client.getServer, { server: listed[i]!.id }).then(
        (r) => r.server,
        (err: unknown) => (isGone(err) ? undefined : Promise.reject(err)),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, listed.length) }, worker));
  return whole.filter((s) => s !== undefined);
}

/** A server removed between the list and the question about it is no longer in the fleet: not an error. */
function isGone(err: unknown): boolean {
  return err instanceof YardError && err.code === 'NOT_FOUND';
}

export const gpuCommand = {
  command: 'gpu [server]',
  describe: 'show who holds GPU memory: per host and GPU each process with its OS user and workload, then per user',
  builder: (y: Argv) =>
    withTarget(y)
      .positional('server', {
        type: 'string',
        describe: 'only this server (name or id); default: every host with GPUs',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print a JSON array, one entry per host' }),
  async handler(argv: GpuArgs) {
    const [{ controlClient, findController }, { gpuUsersJson, gpuUsersText, hasGpus }] = await Promise.all([
      import('../client.js'),
      import('../format-gpu.js'),
    ]);
    const target = await findController(argv);
    const c = controlClient(target);
    try {
      const servers = argv.server
        ? [(await c.call(c.client.getServer, { server: argv.server })).server].filter((s) => s !== undefined)
        : await gpuHosts(c, hasGpus);
      process.stdout.write(argv.json ? printableJson(servers.map(gpuUsersJson), 2) + '\n' : gpuUsersText(servers));
    } finally {
      c.close();
    }
  },
};
