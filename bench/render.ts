// Render time: the real dashboard, headless, over a 1,000-server in-process registry.
import { PassThrough } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startController } from '../src/controller/controller.js';
import { registryFleetSource } from '../src/controller/fleet-source.js';
import { silentLogger } from '../src/core/log.js';
import { FakeHost } from './hosts.js';
import { summarize, type Summary } from './lib.js';

export interface RenderOptions {
  servers: number;
  /** Frames timed in the main scenario (the others time a quarter as many). */
  frames: number;
  cols: number;
  rows: number;
  /** Heartbeats per server before the first frame, so sparklines have history. */
  history: number;
  log: (line: string) => void;
}

export interface Scenario {
  name: string;
  frames: Summary;
  /** Bytes the screen wrote to its output per timed frame. */
  bytesPerFrame: Summary;
  /** Servers whose names were on screen (each got a fresh sample before every frame). */
  visible: number;
  /** Whether the screen showed what the scenario set out to show. */
  checked: boolean;
}

export interface RenderResult {
  servers: number;
  cols: number;
  rows: number;
  fillMs: number;
  firstFrameMs: number;
  /** The main figure: the fleet grid with fresh data every frame. */
  main: Scenario;
  others: Scenario[];
  firstLines: string[];
}

const NAME = /\b(?:gpu|cpu)-node-\d{4}\b/g;
const tick = () => new Promise<void>((r) => setImmediate(r));

export async function runRender(opts: RenderOptions): Promise<RenderResult> {
  // Imported here so a missing or broken dashboard fails this step only, not the whole bench.
  const { startDashboard } = await import('../src/tui/dashboard.js');

  // A real in-process controller (as `yard` embeds it), fed directly through its registry.
  const dataDir = mkdtempSync(join(tmpdir(), 'yard-bench-render-'));
  const controller = await startController({
    dataDir,
    listen: '127.0.0.1:0',
    heartbeatIntervalMs: 1000,
    graceMs: 30_000,
    log: silentLogger,
  });
  const registry = controller.registry;
  const hosts = Array.from({ length: opts.servers }, (_, i) => new FakeHost(i, 7));
  const byName = new Map(hosts.map((h) => [h.hostname, h]));
  const sessions = hosts.map(() => Symbol('bench'));

  // History: `history` samples a second apart, ending now.
  const fillStart = performance.now();
  hosts.forEach((h, i) => {
    registry.connect(h.hello(), sessions[i]!);
  });
  const t0 = Date.now() - opts.history * 1000;
  for (let k = 0; k < opts.history; k++) {
    const last = k === opts.history - 1;
    // Each host mutates its own sample object; the last one is a copy the registry keeps.
    hosts.forEach((h, i) => {
      registry.heartbeat(h.id, sessions[i]!, [last ? h.nextCopy(t0 + k * 1000) : h.next(t0 + k * 1000)]);
    });
  }
  const fillMs = performance.now() - fillStart;
  opts.log(`  registry filled: ${opts.servers} servers × ${opts.history} samples in ${fillMs.toFixed(0)} ms`);

  const source = registryFleetSource(controller, 'bench');
  const input = new PassThrough();
  const output = new PassThrough();
  let written = 0;
  output.on('data', (d: Buffer) => (written += d.length));

  const dash = startDashboard({ source, input, output, cols: opts.cols, rows: opts.rows, onQuit() {} });
  const beat = (h: FakeHost) => registry.heartbeat(h.id, sessions[h.index]!, [h.nextCopy()]);
  const type = async (keys: string) => {
    for (const ch of keys) {
      input.write(ch);
      await tick();
    }
    await tick();
  };

  /** Times `frames` full frames (after 10 untimed), `before` runs untimed ahead of each. */
  const timeFrames = async (
    name: string,
    frames: number,
    before: (f: number) => void,
    check: (text: string) => boolean,
  ): Promise<Scenario> => {
    const times: number[] = [];
    const bytes: number[] = [];
    const warmup = 10;
    let visible = 0;
    for (let f = 0; f < warmup + frames; f++) {
      // A fresh sample for every server on screen, so the frame has new data to draw.
      const onScreen = new Set(dash.screenText().match(NAME) ?? []);
      visible = Math.max(visible, onScreen.size);
      for (const name of onScreen) {
        const h = byName.get(name);
        if (h) beat(h);
      }
      // And what a real fleet sends between two frames (4 fps, 1 Hz): a quarter of the fleet.
      const quarter = Math.ceil(hosts.length / 4);
      for (let n = 0, i = (f * quarter) % hosts.length; n < quarter; n++, i = (i + 1) % hosts.length) {
        if (!onScreen.has(hosts[i]!.hostname)) beat(hosts[i]!);
      }
      before(f);
      await tick();
      const startBytes = written;
      const t = performance.now();
      dash.renderNow();
      const ms = performance.now() - t;
      // Let the output stream deliver what the frame wrote before counting it.
      await tick();
      if (f >= warmup) {
        times.push(ms);
        bytes.push(written - startBytes);
      }
    }
    return {
      name,
      frames: summarize(times),
      bytesPerFrame: summarize(bytes),
      visible,
      checked: check(dash.screenText()),
    };
  };

  try {
    const t = performance.now();
    dash.renderNow();
    const firstFrameMs = performance.now() - t;
    const firstLines = dash
      .screenText()
      .split('\n')
      .slice(0, 3)
      .map((l) => l.trimEnd());
    const few = Math.max(1, Math.ceil(opts.frames / 4));

    const main = await timeFrames(
      'fleet grid',
      opts.frames,
      () => {},
      (text) => text.includes(`${opts.servers}/${opts.servers} online`),
    );

    // A server reconnects before every frame: its 'server' event drops the sorted list.
    let k = 0;
    const resort = await timeFrames(
      'fleet grid, a reconnect per frame',
      few,
      () => {
        const h = hosts[(k++ * 37) % hosts.length]!;
        registry.disconnect(h.id, sessions[h.index]!);
        sessions[h.index] = Symbol('bench');
        registry.connect(h.hello(), sessions[h.index]!);
      },
      (text) => text.includes(`${opts.servers}/${opts.servers} online`),
    );

    // The `/` filter: "role=gpu" keeps half the fleet.
    await type('/role=gpu\r');
    const filtered = await timeFrames(
      'fleet grid, filter role=gpu',
      few,
      () => {},
      (text) => text.includes('role=gpu') && !/cpu-node-\d{4}/.test(text),
    );
    await type('\x1b');

    // The server view of the selected host (GPU hosts have the most to draw).
    await type('\r');
    const server = await timeFrames(
      'server view',
      few,
      () => {},
      (text) => /Fleet\s*›/.test(text) || /gpu-node-|cpu-node-/.test(text.split('\n')[0] ?? ''),
    );
    await type('\x1b');

    return {
      servers: opts.servers,
      cols: opts.cols,
      rows: opts.rows,
      fillMs,
      firstFrameMs,
      main,
      others: [resort, filtered, server],
      firstLines,
    };
  } finally {
    dash.stop();
    input.end();
    output.destroy();
    await controller.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
