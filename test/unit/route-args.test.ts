import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import {
  checkService,
  parseSteps,
  parseWait,
  readRouteText,
  routeCommand,
  routesCommand,
} from '../../src/cli/commands/routes.js';
import { parseWeights } from '../../src/core/schema/weights.js';
import { EXIT_USAGE } from '../../src/cli/fail.js';
import { YardError } from '../../src/core/errors.js';

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(YardError);
    expect((err as YardError).code).toBe('INVALID_ARGUMENT');
    return (err as YardError).message;
  }
  throw new Error('expected a usage error');
}

describe('VERSION=PCT pairs', () => {
  it('reads whole percentages from 0 to 100 per version', () => {
    expect(parseWeights(['blue=80', 'green=20'])).toEqual({ blue: 80, green: 20 });
    expect(parseWeights(['v2.1_rc-1=0', 'v1=100'])).toEqual({ 'v2.1_rc-1': 0, v1: 100 });
  });

  it.each([
    ['blue', /"blue" is not VERSION=PCT/],
    ['blue=', /"blue=" is not VERSION=PCT/],
    ['blue=101', /"blue=101" is not VERSION=PCT with PCT a whole number from 0 to 100/],
    ['blue=-5', /"blue=-5" is not VERSION=PCT/],
    ['blue=12.5', /"blue=12\.5" is not VERSION=PCT/],
    ['blue=50%', /"blue=50%" is not VERSION=PCT/],
    ['=50', /"=50": version "" may only hold letters, digits/],
    ['blue green=5', /"blue green=5": version "blue green" may only hold/],
  ])('names the bad pair %s', (pair, message) => {
    expect(usageMessage(() => parseWeights(['green=10', pair]))).toMatch(message);
  });

  it('refuses a version given twice, and no pairs at all', () => {
    expect(usageMessage(() => parseWeights(['blue=10', 'blue=20']))).toMatch(/"blue=20": version blue is given twice/);
    expect(usageMessage(() => parseWeights([]))).toMatch(/give at least one VERSION=PCT/);
  });
});

describe('--steps and --interval', () => {
  it('reads rising percentages that end at 100', () => {
    expect(parseSteps('5,25,50,100')).toEqual([5, 25, 50, 100]);
    expect(parseSteps(' 10, 100 ')).toEqual([10, 100]);
    expect(parseSteps('100')).toEqual([100]);
  });

  it.each([
    ['5,25,50', /the last step must be 100/],
    ['50,25,100', /rising, from 1 to 100/],
    ['0,100', /rising, from 1 to 100/],
    ['5,,100', /"" is not a whole percentage/],
    ['5,2.5,100', /"2\.5" is not a whole percentage/],
    ['five,100', /"five" is not a whole percentage/],
    ['5,150', /rising, from 1 to 100/],
  ])('refuses --steps %s', (text, message) => {
    expect(usageMessage(() => parseSteps(text))).toMatch(message);
  });

  it('reads durations and refuses bad ones naming the flag', () => {
    expect(parseWait('10s', '--interval')).toBe(10_000);
    expect(parseWait('700ms', '--interval')).toBe(700);
    expect(parseWait('2m', '--deadline')).toBe(120_000);
    expect(usageMessage(() => parseWait('soon', '--interval'))).toMatch(/--interval "soon" is not a duration/);
    expect(usageMessage(() => parseWait('0s', '--deadline'))).toMatch(/--deadline "0s" must be greater than zero/);
    expect(usageMessage(() => parseWait('25h', '--interval'))).toMatch(/--interval "25h" is longer than a day/);
  });

  it('checks service names', () => {
    expect(checkService('web')).toBe('web');
    expect(usageMessage(() => checkService('web/api'))).toMatch(/service name "web\/api" is not valid/);
  });
});

describe('reading a route file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'yard-route-args-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file, or stdin for -', async () => {
    const file = join(dir, 'web.yaml');
    writeFileSync(file, 'name: web\n');
    expect(await readRouteText(file)).toBe('name: web\n');
    expect(await readRouteText('-', Readable.from([Buffer.from('{"name":'), Buffer.from('"web"}')]))).toBe(
      '{"name":"web"}',
    );
  });

  it('says why it cannot read one', async () => {
    await expect(readRouteText(join(dir, 'missing.yaml'))).rejects.toThrow(
      `cannot read route file ${join(dir, 'missing.yaml')}: no such file`,
    );
    await expect(readRouteText(dir)).rejects.toThrow(`cannot read route file ${dir}: it is a directory`);
  });

  it('refuses more than a route file could hold', async () => {
    const big = join(dir, 'big.yaml');
    writeFileSync(big, Buffer.alloc(4 * 2 ** 20 + 1, 0x20));
    await expect(readRouteText(big)).rejects.toThrow(
      /cannot read route file .*big\.yaml: it is 4194305 bytes, more than 4 MiB/,
    );
    const chunks = Array.from({ length: 5 }, () => Buffer.alloc(2 ** 20, 0x20));
    await expect(readRouteText('-', Readable.from(chunks))).rejects.toThrow(
      /cannot read route file stdin: more than 4 MiB/,
    );
  });
});

describe('the yargs commands', () => {
  const cli = () =>
    yargs()
      .command(routesCommand)
      .command(routeCommand)
      .parserConfiguration({ 'duplicate-arguments-array': false })
      .strict()
      .exitProcess(false)
      .fail(false);
  const dir = mkdtempSync(join(tmpdir(), 'yard-route-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => vi.restoreAllMocks());

  /** Parses a command line whose checks fail before any controller is asked; returns the exit code and stderr. */
  async function usage(args: string[]): Promise<{ code: number | undefined; stderr: string }> {
    let stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    let code: number | undefined;
    vi.spyOn(process, 'exit').mockImplementation((c?: string | number | null) => {
      code = Number(c);
      throw new Error('exited');
    });
    await expect((async () => cli().parseAsync(args))()).rejects.toThrow('exited');
    return { code, stderr };
  }

  it('exits with the usage code naming a bad pair, bad steps or a bad interval', async () => {
    expect(await usage(['route', 'weight', 'web', 'blue=80', 'green=lots'])).toEqual({
      code: EXIT_USAGE,
      stderr:
        'yard: "green=lots" is not VERSION=PCT with PCT a whole number from 0 to 100 (e.g. blue=80 green=20)\nRun `yard route weight --help` for usage.\n',
    });
    expect((await usage(['route', 'weight', 'web', 'blue=lots', 'green=20', '--data-dir', dir])).stderr).toMatch(
      /^yard: "blue=lots" is not VERSION=PCT/,
    );
    expect((await usage(['route', 'promote', 'web', 'green', '--steps', '5,50'])).stderr).toMatch(
      /--steps 5,50: the last step must be 100/,
    );
    expect((await usage(['route', 'promote', 'web', 'green', '--interval', '10 minutes'])).stderr).toMatch(
      /--interval "10 minutes" is not a duration/,
    );
    expect((await usage(['route', 'drain', 'web', 'blue', '--deadline', 'never'])).code).toBe(EXIT_USAGE);
    expect((await usage(['route', 'history', '--limit', '-1'])).stderr).toMatch(/--limit -1 must be a whole number/);
    expect(await usage(['route'])).toEqual({
      code: EXIT_USAGE,
      stderr:
        'yard: name a route command: apply, weight, promote, rollback, drain, delete or history\nRun `yard route --help` for usage.\n',
    });
  });

  async function help(args: string[]): Promise<string> {
    let text = '';
    await cli()
      .scriptName('yard')
      .parseAsync(args, {}, (_err, _argv, output) => {
        text = output;
      });
    return text;
  }

  it('lists every route command with examples in its help', async () => {
    const text = await help(['route', '--help']);
    for (const cmd of [
      'apply',
      'weight <service> <weights..>',
      'promote <service> <version>',
      'rollback <service>',
      'drain <service> <backend>',
      'delete <service>',
      'history [service]',
    ]) {
      expect(text).toContain(`yard route ${cmd}`);
    }
    expect(text).toContain('yard route apply -f web.yaml');
    const promote = await help(['route', 'promote', '--help']);
    expect(promote).toMatch(/--steps\s+percent of the traffic at each step/);
    expect(promote).toMatch(/130 {2}interrupted while watching \(the promotion itself goes on/);
    expect(await help(['routes', '--help'])).toMatch(/--json\s+print a JSON array/);
  });
});
