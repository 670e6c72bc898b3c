import { errorMessage } from '../../core/errors.js';
import { isIP } from 'node:net';
import type { Argv } from 'yargs';
import { createLogger } from '../../core/log.js';
import { DEFAULT_LISTEN, controllerFiles, defaultDataDir } from '../../core/paths.js';
import { FlagError } from '../fail.js';
import {
  agentIdentity,
  dialList,
  dialListArg,
  durationArg,
  labelOptions,
  listenArg,
  pathArg,
  type LabelArgs,
} from '../options.js';
import { readToken, withTokenFile } from '../secrets.js';
import { onShutdown } from '../shutdown.js';

/** HOST:PORT peers dial: a real port, since no one can dial port 0. */
function transferAdvertiseArg(text: string): string {
  listenArg(text, 'transfer-advertise');
  if (/:0+$/.test(text))
    throw new FlagError(
      '--transfer-advertise',
      `--transfer-advertise "${text}" has port 0, which no peer can dial: give the port they reach this agent's --transfer-listen on (e.g. 203.0.113.7:7443)`,
    );
  return text;
}

export const agentCommand = {
  command: 'agent',
  describe: 'run the agent on this host: it dials the controller, registers and streams metrics',
  builder: (y: Argv) =>
    withTokenFile(
      y,
      'the join token, needed the first time this agent joins (afterwards its own key in the data dir admits it)',
      'YARD_JOIN_TOKEN',
    )
      // --label is repeatable (main.ts makes a repeated flag mean the last one).
      .parserConfiguration({ 'duplicate-arguments-array': true })
      .option('controller', {
        type: 'string',
        default: DEFAULT_LISTEN,
        describe:
          'HOST:PORT of the controller to dial, or several as A:PORT,B:PORT (controllers sharing one CA): a lost one is replaced by the next within a second',
      })
      .option('name', { type: 'string', describe: 'display name (default: the hostname)' })
      .options(labelOptions('label k=v, e.g. --label gpu=a100 --label rack=r12 (repeatable; or gpu=a100,rack=r12)'))
      .option('location', { type: 'string', describe: 'where the host is, e.g. dc1/row4' })
      .option('data-dir', {
        type: 'string',
        default: controllerFiles(defaultDataDir()).localAgentDir,
        defaultDescription: '$XDG_STATE_HOME/switchyard/agent',
        describe: 'where the agent keeps its stable id',
        coerce: pathArg('data-dir'),
      })
      .option('interval', { type: 'string', default: '1s', describe: 'how often to sample this host' })
      .option('nvidia-smi', {
        type: 'string',
        default: 'nvidia-smi',
        describe: 'path of nvidia-smi (a host without it has no GPUs)',
        coerce: (p: string) => (p.includes('/') ? pathArg('nvidia-smi')(p) : p),
      })
      .option('advertise', {
        type: 'string',
        describe:
          'IP address where workloads on this host are reached; given to them as SWITCHYARD_ADDRESS (default: 127.0.0.1 when the controller is on loopback, else the first IPv4 address)',
      })
      .option('transfer-listen', {
        type: 'string',
        describe:
          'HOST:PORT where this agent serves checkpoints straight to the target agent of a migration, TLS with its certificate (default: the advertise address, any free port; name one for a firewall rule)',
      })
      .option('transfer-advertise', {
        type: 'string',
        describe:
          'HOST:PORT that peer agents dial to fetch checkpoints from this one, when it differs from --transfer-listen (a NAT, a port forward, a proxy in between; default: the bound --transfer-listen address)',
      })
      .option('proxy', {
        type: 'boolean',
        default: false,
        describe: 'also act as a proxy: apply the routes the controller places on this host',
      }),
  async handler(
    argv: LabelArgs & {
      controller: string;
      token?: string;
      tokenFile?: string;
      name?: string;
      location?: string;
      dataDir: string;
      interval: string;
      nvidiaSmi: string;
      advertise?: string;
      transferListen?: string;
      transferAdvertise?: string;
      proxy: boolean;
    },
  ) {
    const controllers = dialList(dialListArg(argv.controller, 'controller'));
    const identity = agentIdentity(argv);
    const intervalMs = durationArg(argv.interval, 'interval');
    const joinToken = await readToken(argv, 'YARD_JOIN_TOKEN');
    // Read once: the environment of the agent's workloads never carries it.
    delete process.env.YARD_JOIN_TOKEN;
    if (joinToken !== undefined) {
      const { parseJoinToken } = await import('../../core/pki/join-token.js');
      try {
        parseJoinToken(joinToken);
      } catch (err) {
        throw new FlagError(argv.tokenFile !== undefined ? '--token-file' : '$YARD_JOIN_TOKEN', errorMessage(err));
      }
    }
    if (argv.advertise !== undefined && isIP(argv.advertise) === 0)
      throw new FlagError(
        '--advertise',
        `--advertise "${argv.advertise}" is not an IP address, e.g. 10.0.0.5 or 127.0.0.2`,
      );
    const { startAgent } = await import('../../agent/agent.js');
    const log = createLogger('agent', (l) => process.stderr.write(l));
    const agent = await startAgent({
      controllers,
      dataDir: argv.dataDir,
      joinToken,
      ...identity,
      intervalMs,
      nvidiaSmi: argv.nvidiaSmi,
      advertise: argv.advertise,
      transferListen: argv.transferListen && listenArg(argv.transferListen, 'transfer-listen'),
      transferAdvertise: argv.transferAdvertise && transferAdvertiseArg(argv.transferAdvertise),
      proxy: argv.proxy,
      log,
    });
    onShutdown(() => agent.stop());
  },
};
