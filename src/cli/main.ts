#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { printable } from '../core/printable.js';
import { YARD_VERSION } from '../core/version.js';
import { accessCommand, serverCommand, whoamiCommand } from './commands/access.js';
import { agentCommand } from './commands/agent.js';
import { attachCommand } from './commands/attach.js';
import { auditCommand } from './commands/audit.js';
import { controllerCommand } from './commands/controller.js';
import { dashCommand } from './commands/dash.js';
import { deployCommand } from './commands/deploy.js';
import { gpuCommand } from './commands/gpu.js';
import { cordonCommand, drainCommand, uncordonCommand } from './commands/drain.js';
import { migrateCommand } from './commands/migrate.js';
import { routeCommand, routesCommand } from './commands/routes.js';
import { scrapeCommand } from './commands/scrape.js';
import { serversCommand, statusCommand } from './commands/servers.js';
import { tokenCommand } from './commands/token.js';
import { wallCommand } from './commands/wall.js';
import { logsCommand, pauseCommand, psCommand, resumeCommand, runCommand, stopCommand } from './commands/workloads.js';
import { EXIT_USAGE, fail } from './fail.js';
import { commandNames, suggestCommand } from './suggest.js';

// grpc-js names an IP target as the TLS server name, and Node warns of it (DEP0123) on every
// agent's and CLI's stderr: noise to an operator, about a library's internals.
process.noDeprecation = true;

/** The commands a mistyped word is matched against; the chain below registers each of them. */
const COMMANDS = [
  dashCommand,
  controllerCommand,
  agentCommand,
  serversCommand,
  statusCommand,
  gpuCommand,
  tokenCommand,
  runCommand,
  psCommand,
  stopCommand,
  pauseCommand,
  resumeCommand,
  logsCommand,
  attachCommand,
  migrateCommand,
  cordonCommand,
  uncordonCommand,
  drainCommand,
  routesCommand,
  routeCommand,
  deployCommand,
  wallCommand,
  auditCommand,
  accessCommand,
  serverCommand,
  scrapeCommand,
  whoamiCommand,
];

await yargs(hideBin(process.argv))
  .scriptName('yard')
  .usage('$0 [command] [options]\n\nSwitchyard: the terminal control room for server and GPU fleets.')
  .command(dashCommand)
  .command(controllerCommand)
  .command(agentCommand)
  .command(serversCommand)
  .command(statusCommand)
  .command(gpuCommand)
  .command(tokenCommand)
  .command(runCommand)
  .command(psCommand)
  .command(stopCommand)
  .command(pauseCommand)
  .command(resumeCommand)
  .command(logsCommand)
  .command(attachCommand)
  .command(migrateCommand)
  .command(cordonCommand)
  .command(uncordonCommand)
  .command(drainCommand)
  .command(routesCommand)
  .command(routeCommand)
  .command(deployCommand)
  .command(wallCommand)
  .command(auditCommand)
  .command(accessCommand)
  .command(serverCommand)
  .command(scrapeCommand)
  .command(whoamiCommand)
  // A repeated flag means the last one (like most CLIs); array options (--env, --label) still collect.
  .parserConfiguration({ 'duplicate-arguments-array': false })
  .strict()
  .version(YARD_VERSION)
  .help()
  .alias('h', 'help')
  .wrap(Math.min(100, process.stdout.columns || 100))
  .fail((msg, err) => {
    // yargs' own errors (YError: a flag's coerce refused its value) are the command line's fault.
    if (err && err.name !== 'YError') fail(err);
    // yargs' recommendCommands never fires here: the dashboard is the default command, so a
    // mistyped command reaches it as an unknown argument.
    const meant = msg ? suggestCommand(msg, hideBin(process.argv), commandNames(COMMANDS)) : undefined;
    const hint = meant ? `Did you mean \`yard ${meant}\`? ` : '';
    process.stderr.write(`yard: ${printable(msg || (err?.message ?? ''))}\n${hint}Run \`yard --help\` for usage.\n`);
    process.exit(EXIT_USAGE);
  })
  .parseAsync();
