// "Did you mean": a mistyped command gets the command it was most likely meant to be; a
// refused flag, a word after a command and a word like no command get none.
import { describe, expect, it } from 'vitest';
import { serversCommand, statusCommand } from '../../src/cli/commands/servers.js';
import { migrateCommand } from '../../src/cli/commands/migrate.js';
import { dashCommand } from '../../src/cli/commands/dash.js';
import { routeCommand, routesCommand } from '../../src/cli/commands/routes.js';
import { commandNames, suggestCommand } from '../../src/cli/suggest.js';
import { assertBuilt, runYard } from '../helpers/procs.js';

const names = commandNames([dashCommand, serversCommand, statusCommand, migrateCommand, routesCommand, routeCommand]);

describe('did you mean', () => {
  it('takes the first word of each command, without the default', () => {
    expect(names).toEqual(['dash', 'servers', 'status', 'migrate', 'routes', 'route']);
  });

  it('suggests the nearest command for a word where a command goes', () => {
    expect(suggestCommand('Unknown argument: server', ['server'], names)).toBe('servers');
    expect(suggestCommand('Unknown arguments: migrat, web', ['migrat', 'web'], names)).toBe('migrate');
    expect(suggestCommand('Unknown argument: stat', ['--data-dir', '/tmp/d', 'stat'], names)).toBe('status');
  });

  it('suggests nothing for a flag, a word after a command, or a word like no command', () => {
    expect(suggestCommand('Unknown argument: stat', ['servers', '--stat'], names)).toBeUndefined();
    expect(suggestCommand('Unknown argument: dsh', ['route', 'dsh'], names)).toBeUndefined();
    expect(suggestCommand('Unknown argument: xyzzy', ['xyzzy'], names)).toBeUndefined();
    expect(suggestCommand('Missing required argument: workload', ['migrate'], names)).toBeUndefined();
  });

  it('the built yard says it, with the usage exit code', async () => {
    assertBuilt();
    const { code, stderr } = await runYard(['servres']);
    expect(code).toBe(2);
    expect(stderr).toBe('yard: Unknown argument: servres\nDid you mean `yard servers`? Run `yard --help` for usage.\n');
    expect((await runYard(['servers', '--bogus'])).stderr).toBe(
      'yard: Unknown argument: bogus\nRun `yard --help` for usage.\n',
    );
  });
});
