#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { YARD_VERSION } from '../core/version.js';
import { agentCommand } from './commands/agent.js';
import { controllerCommand } from './commands/controller.js';
import { dashCommand } from './commands/dash.js';
import { serversCommand, statusCommand } from './commands/servers.js';
import { tokenCommand } from './commands/token.js';
import { EXIT_USAGE, fail } from './fail.js';

await yargs(hideBin(process.argv))
  .scriptName('yard')
  .usage('$0 [command] [options]\n\nSwitchyard: the terminal control room for server and GPU fleets.')
  .command(dashCommand)
  .command(controllerCommand)
  .command(agentCommand)
  .command(serversCommand)
  .command(statusCommand)
  .command(tokenCommand)
  .strict()
  .version(YARD_VERSION)
  .help()
  .alias('h', 'help')
  .wrap(Math.min(100, process.stdout.columns || 100))
  .fail((msg, err) => {
    if (err) fail(err);
    process.stderr.write(`yard: ${msg}\nRun \`yard --help\` for usage.\n`);
    process.exit(EXIT_USAGE);
  })
  .parseAsync();
