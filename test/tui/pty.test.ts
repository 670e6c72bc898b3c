// The built `yard` in a real pty, read back through a real terminal emulator: each theme,
// each TERM operators run it under, a non-UTF-8 locale, a storm of resizes, and bad theme and
// config files. One controller and two agents (one with a recorded 8-GPU nvidia-smi) serve
// every dashboard here.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  FAKE_NVIDIA_SMI,
  freePort,
  joinArgs,
  startAgentProc,
  startControllerProc,
  tempDir,
  YARD,
  type YardProcess,
} from '../helpers/procs.js';
import { colourCodes, PtyScreen, ptyYard, type PtyOptions } from '../helpers/pty.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

let address: string;
/** The shared controller's data dir: `--connect` finds its operator token there, as on the controller's host. */
let ctlDir: string;
const connect = () => ['--connect', address, '--data-dir', ctlDir];
const procs: YardProcess[] = [];
const ptys: PtyScreen[] = [];

function track(p: PtyScreen): PtyScreen {
  ptys.push(p);
  return p;
}
const open = (args: string[], opts: PtyOptions = {}): PtyScreen => track(ptyYard(args, opts));

/** A dashboard attached to the shared controller, once it shows both hosts' readings. */
async function dashboard(args: string[], opts: PtyOptions = {}): Promise<{ p: PtyScreen; text: string }> {
  const p = open([...connect(), ...args], opts);
  // Both hosts with readings: CPU on both cards, and the eighth GPU of the recorded box.
  const text = await p.waitFor((t) => (t.match(/CPU [^\n]*? \d+%/g) ?? []).length >= 2 && /G7 [^\n]* \d+%/.test(t));
  return { p, text };
}

/** Text a terminal shows when escape codes went wrong: raw ESC, caret notation, DEC line-drawing letters. */
function strayEscapes(text: string): string[] {
  const junk = [/\x1b/, /\^\[/, /\[\d+(;\d+)*[a-zA-Z]/, /[lmtuwv]q{3,}|q{3,}[kjutvw]/, /\(B|\)0/];
  return junk.filter((re) => re.test(text)).map(String);
}

beforeAll(async () => {
  assertBuilt();
  const port = await freePort();
  address = `127.0.0.1:${port}`;
  ctlDir = tempDir();
  const controller = startControllerProc(ctlDir, port);
  procs.push(controller);
  await controller.waitForOutput(/controller listening/);
  procs.push(
    startAgentProc(address, tempDir(), [
      '--name',
      'gpu-box',
      '--labels',
      'gpu=h100',
      '--nvidia-smi',
      FAKE_NVIDIA_SMI,
      ...joinArgs(ctlDir),
    ]),
    startAgentProc(address, tempDir(), [
      '--name',
      'cpu-box',
      '--labels',
      'role=web',
      '--nvidia-smi',
      '/nonexistent/nvidia-smi',
      ...joinArgs(ctlDir),
    ]),
  );
});

afterAll(async () => {
  await Promise.all(ptys.map((p) => p.stop()));
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
});

describe('themes through a real terminal', () => {
  it('each theme draws the fleet in its own colours; mono and NO_COLOR in none', async () => {
    // Header SGR of each colour theme: background then foreground, as blessed writes them.
    const headers: Record<string, string> = { default: '46;30', light: '44;37', 'high-contrast': '107;30' };
    const runs = await Promise.all([
      ...Object.keys(headers).map((theme) => dashboard(['--theme', theme])),
      dashboard(['--theme', 'mono']),
      dashboard(['--theme', 'high-contrast'], { env: { NO_COLOR: '1' } }),
    ]);
    for (const [i, theme] of Object.keys(headers).entries()) {
      const { p, text } = runs[i]!;
      expect(text, theme).toMatch(/^ Fleet │ 127\.0\.0\.1:\d+ \(attached\) │ 2\/2 online │ 8 GPUs/);
      expect(text, theme).toContain('● online');
      expect(text, theme).toContain('gpu=h100');
      expect(text.split('\n').at(-1), theme).toMatch(/\? help +q quit/);
      expect(colourCodes(p.raw), theme).toContain(headers[theme]);
    }
    for (const { p, text } of runs.slice(3)) {
      expect(text).toContain('● online');
      expect(text).toMatch(/G0 .* \d+%/);
      expect(colourCodes(p.raw)).toEqual([]);
      // Without colour, the header and footer are drawn inverse, and the selection bold.
      expect(p.raw).toMatch(/\x1b\[7m Fleet/);
    }
  });
});

describe('terminals', () => {
  const TERMS = ['tmux-256color', 'screen-256color', 'xterm-256color', 'xterm', 'linux'];

  it('draws under every TERM with no stray escape text, in 16 colours where that is all there is', async () => {
    const runs = await Promise.all(
      TERMS.map((TERM) => dashboard(['--theme', 'high-contrast'], { cols: 120, rows: 40, env: { TERM } })),
    );
    for (const [i, TERM] of TERMS.entries()) {
      const { p, text } = runs[i]!;
      expect(strayEscapes(text), TERM).toEqual([]);
      const rows = text.split('\n');
      expect(rows[0], TERM).toMatch(/^ Switchyard │ Fleet │ .* \d\d:\d\d:\d\d $/);
      expect(rows[1], TERM).toMatch(/^┌─ ▶ cpu-box ─+┐┌─ gpu-box ─+┐$/);
      expect(rows.at(-1), TERM).toMatch(/q quit +2 servers $/);
      // xterm and the linux console have 8 colours (bright ones by bold): no 90-107 codes.
      const bright = colourCodes(p.raw).filter((c) => c.split(';').some((n) => Number(n) >= 90));
      if (TERM === 'xterm' || TERM === 'linux') expect(bright, TERM).toEqual([]);
      else expect(bright.length, TERM).toBeGreaterThan(0);
    }
  });

  it('a terminal with fewer than 8 colours (vt100) gets what NO_COLOR gets: no colour codes, inverse bars', async () => {
    const { p, text } = await dashboard(['--theme', 'high-contrast'], { env: { TERM: 'vt100' } });
    expect(strayEscapes(text)).toEqual([]);
    expect(text).toContain('● online');
    expect(colourCodes(p.raw)).toEqual([]);
    expect(p.raw).toMatch(/\x1b\[7m Fleet/);
  });

  const hasTmux = spawnSync('tmux', ['-V']).status === 0;

  it.skipIf(!hasTmux)(
    'inside tmux too, seen through a tmux client, for every TERM and a non-UTF-8 locale',
    async () => {
      // A tmux server of our own (its own socket, no config), one session per TERM.
      const socket = `yard-test-${process.pid}`;
      const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args]);
      const cases = [...TERMS.map((TERM) => ({ TERM, LANG: 'C.UTF-8' })), { TERM: 'tmux-256color', LANG: 'C' }];
      try {
        cases.forEach(({ TERM, LANG }, i) => {
          const command = `env -u NO_COLOR -u LC_ALL -u LC_CTYPE TERM=${TERM} LANG=${LANG} XDG_CONFIG_HOME=/nonexistent ${process.execPath} ${YARD} --connect ${address} --data-dir ${ctlDir}`;
          tmux('new-session', '-d', '-s', `s${i}`, '-x', '100', '-y', '30', command);
        });
        const clients = cases.map((_, i) =>
          track(new PtyScreen('tmux', ['-L', socket, 'attach', '-t', `s${i}`], { cols: 100, rows: 30 })),
        );
        const screens = await Promise.all(
          clients.map((c) => c.waitFor((t) => (t.match(/CPU [^\n]*? \d+%/g) ?? []).length >= 2)),
        );
        screens.forEach((text, i) => {
          const what = `${cases[i]!.TERM} LANG=${cases[i]!.LANG}`;
          expect(strayEscapes(text), what).toEqual([]);
          // Line drawing arrives as lines whether it went as UTF-8 or through the alternate charset.
          expect(text.split('\n')[1], what).toMatch(/^┌─ .*cpu-box ─+┐┌─ gpu-box ─+┐/);
          expect(text, what).toMatch(cases[i]!.LANG === 'C' ? /\* online/ : /● online/);
        });
      } finally {
        spawnSync('tmux', ['-L', socket, 'kill-server']);
      }
    },
  );

  it("without a UTF-8 locale, ASCII glyphs (and the terminal's own line drawing)", async () => {
    const { p, text } = await dashboard([], { env: { LANG: 'C' } });
    expect(strayEscapes(text)).toEqual([]);
    expect(text).toContain('* online');
    expect(text).toContain('> cpu-box');
    expect(text).toMatch(/CPU #+\.* +\d+%/);
    expect(text.replace(/[\u2500-\u257f]/g, '')).toMatch(/^[\x20-\x7e\n]*$/);
    expect(p.raw).not.toMatch(/[●▶█]/);
  });
});

describe('small and changing terminals', () => {
  it('survives a storm of 200 resizes: the last size drawn right, memory flat', async () => {
    const { p } = await dashboard([], { cols: 100, rows: 30 });
    await new Promise((r) => setTimeout(r, 500));
    const before = p.rss();
    const sizes = [
      [50, 12],
      [200, 60],
      [80, 24],
      [61, 15],
      [59, 14],
      [160, 48],
      [30, 5],
      [120, 40],
    ] as const;
    for (let i = 0; i < 200; i++) {
      const [cols, rows] = sizes[i % sizes.length]!;
      p.resize(cols, rows);
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    p.resize(59, 20);
    await p.waitFor('terminal too small — need 60x15');
    p.resize(160, 48);
    const text = await p.waitFor((t) => t.split('\n')[47]!.includes('q quit') && t.split('\n')[1]!.includes('gpu-box'));
    expect(text).not.toContain('too small');
    expect(text.split('\n')[0]).toMatch(/^ Switchyard │ Fleet │ .* \d\d:\d\d:\d\d $/);
    expect(strayEscapes(text)).toEqual([]);
    expect(p.exitCode).toBeUndefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(p.rss() - before).toBeLessThan(40 * 1024 * 1024);
  });
});

describe('bad theme and config files', () => {
  it('are refused before the terminal is taken, naming the file, the line and the field', async () => {
    const dir = tempDir('yard-xdg-');
    mkdirSync(`${dir}/switchyard`);
    copyFileSync(fixture('config/bad-key.yaml'), `${dir}/switchyard/config.yaml`);
    const runs = [
      open([...connect(), '--theme', fixture('bad-colour-theme.json')]),
      open(connect(), { env: { XDG_CONFIG_HOME: dir } }),
      open(['wall', ...connect(), '--config', fixture('config/unknown-action.yaml')]),
      open(['wall', ...connect(), '--views', 'fleet,alerts']),
    ];
    const codes = await Promise.all(runs.map((p) => p.exited));
    // A bad file fails (1); a bad flag is a usage error (2).
    expect(codes).toEqual([1, 1, 1, 2]);
    const said = runs.map((p) => p.raw);
    expect(said[0]).toMatch(
      /yard: theme file .*bad-colour-theme\.json: field "states\.online": "grean" is not a colour/,
    );
    expect(said[1]).toMatch(
      /yard: config file .*switchyard\/config\.yaml, line 4 \(keys\.quit\[1\]\): "ctrl\+q" is not a key/,
    );
    expect(said[2]).toMatch(
      /yard: config file .*unknown-action\.yaml, line 3 \(keys\.quitt\): "quitt" is not an action/,
    );
    expect(said[3]).toContain(
      'yard: --views "alerts" is not a view a wall can show: use a comma-separated list of fleet, workloads, migrations, routes',
    );
    // None of them switched to the alternate screen: the operator's terminal is as it was.
    for (const raw of said) expect(raw).not.toContain('\x1b[?1049h');
  });
});
