import { status } from '@grpc/grpc-js';
import { cpSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentHello, refusedHello } from '../helpers/hello.js';
import { agentPems, channelOf } from '../helpers/pki.js';
import {
  assertBuilt,
  freePort,
  joinArgs,
  runYard,
  startAgentProc,
  startControllerProc,
  tempDir,
  waitFor,
  type YardProcess,
} from '../helpers/procs.js';

// Control characters a terminal obeys: clear the screen, retitle the window, ring the bell.
const EVIL = 'evil\x1b[2J\x1b]0;pwned\x07';
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

describe('an agent that claims a name, labels or a location with control characters', () => {
  const dir = tempDir();
  let address: string;
  let ctl: YardProcess;

  beforeAll(async () => {
    assertBuilt();
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    ctl = startControllerProc(dir, port);
    await ctl.waitForOutput(/controller listening/);
  });
  afterAll(() => ctl.kill('SIGKILL'));

  it('is refused at hello with the field named, and the controller logs it escaped', async () => {
    for (const [over, field] of [
      [{ name: EVIL }, 'name'],
      [{ labels: { rack: EVIL } }, 'labels.rack'],
      [{ location: EVIL }, 'location'],
      [{ hostname: EVIL }, 'hostname'],
    ] as const) {
      const { replies, err } = await refusedHello(
        address,
        agentHello({ serverId: 'hostile-1', ...over }),
        channelOf(await agentPems(dir, 'hostile-1')),
      );
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toContain(`agent hello: ${field} holds a control character (U+001B at 5)`);
      expect(replies[0]?.msg?.$case).toBe('error');
    }
    await ctl.waitForOutput(/agent refused .*code=INVALID_ARGUMENT/);
    expect(ctl.output).not.toMatch(RAW);
    const servers = await runYard(['servers', '--json', '--data-dir', dir]);
    expect(JSON.parse(servers.stdout)).toEqual([]);
  });

  it('`yard agent` refuses such a name, labels or location at start, exit 2, printing them escaped', async () => {
    for (const [flags, rule] of [
      [['--name', EVIL], /^yard: --name "evil\\x1b\[2J\\x1b\]0;pwned\\x07" holds a control character \(U\+001B at 5\)/],
      [['--labels', `rack=${EVIL}`], /^yard: --labels: labels: rack holds a control character/],
      [['--location', `dc1${EVIL}`], /^yard: --location "dc1evil\\x1b.*" holds a control character \(U\+001B at 8\)/],
    ] as const) {
      const r = await runYard(['agent', '--controller', address, '--data-dir', tempDir(), ...flags]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(rule);
      expect(r.stderr).not.toMatch(RAW);
    }
  });
});

describe('the controller log', () => {
  it('says why a session ended in words, never [object Object]', async () => {
    const dir = tempDir();
    const port = await freePort();
    const ctl = startControllerProc(dir, port);
    const agents: YardProcess[] = [];
    try {
      await ctl.waitForOutput(/controller listening/);
      const agentDir = tempDir();
      const first = startAgentProc(`127.0.0.1:${port}`, agentDir, ['--name', 'twin', ...joinArgs(dir)]);
      agents.push(first);
      await ctl.waitForOutput(/agent online .*name=twin/);
      // The same identity from a second process (a cloned VM, a copied data dir) supersedes the first session.
      await first.stop();
      const clone = tempDir();
      cpSync(agentDir, clone, { recursive: true });
      agents.push(
        startAgentProc(`127.0.0.1:${port}`, agentDir, ['--name', 'twin', ...joinArgs(dir)]),
        startAgentProc(`127.0.0.1:${port}`, clone, ['--name', 'twin', ...joinArgs(dir)]),
      );
      const [line] = await ctl.waitForOutput(/agent session ended .*why=.*\n/, 20_000);
      expect(line).not.toContain('[object Object]');
      await waitFor(
        'a superseded session logged',
        () => /why="a newer session for server \S+ replaced this one"/.test(ctl.output) || undefined,
        20_000,
      );
      expect(ctl.output).not.toContain('[object Object]');
    } finally {
      await Promise.all([...agents, ctl].map((p) => p.kill('SIGKILL')));
    }
  });
});
