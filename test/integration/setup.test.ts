import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt } from '../helpers/procs.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

/** The README's commands resolve to the built CLI: `npm start` and `npx yard`. */
describe('set-up commands', () => {
  beforeAll(assertBuilt);

  it('`npm start -- --help` runs the dashboard command of the built CLI', async () => {
    const { stdout } = await run('npm', ['start', '--silent', '--', '--help'], { cwd: root });
    expect(stdout).toMatch(/yard dash\s+open the dashboard: attached to the controller running for the data dir/);
  });

  it('`npx yard --version` runs from the checkout', async () => {
    const { stdout } = await run('npx', ['yard', '--version'], { cwd: root });
    expect(stdout.trim()).toBe('0.1.0');
  });
});
