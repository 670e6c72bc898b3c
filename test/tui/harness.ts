// Runs the dashboard headless: PassThrough streams for the terminal, keys written as the bytes
// a terminal sends, the screen read back from blessed's cell buffer.
import { PassThrough } from 'node:stream';
import type { FleetSource } from '../../src/core/fleet.js';
import { startDashboard, type Dashboard, type DashboardOptions } from '../../src/tui/dashboard.js';

/** The bytes a terminal sends for the keys the tests press. */
export const KEY = {
  enter: '\r',
  escape: '\x1b',
  pageDown: '\x1b[6~',
  pageUp: '\x1b[5~',
  down: '\x1b[B',
  up: '\x1b[A',
  backspace: '\x7f',
  tab: '\t',
  ctrlC: '\x03',
  ctrlR: '\x12',
} as const;

export interface Headless {
  dashboard: Dashboard;
  input: PassThrough;
  output: PassThrough;
  quits: number;
  text(): string;
  /** Everything the dashboard wrote to the terminal so far (blessed flushes on the next tick: settle first). */
  written(): string;
  settle(): Promise<void>;
  /** Writes each key as its own chunk (blessed reads "\x1bj" as Meta-j) and lets it be handled. */
  press(...keys: string[]): Promise<void>;
  resize(cols: number, rows: number): Promise<void>;
  /**
   * Resolves with the screen once it shows `what`. Frames that follow data changes (an
   * action's answer, a migration's progress) come from the scheduler, at most 4 a second.
   * Once the dashboard has quit its screen cannot change: the wait fails at once.
   */
  waitFor(what: string | RegExp, timeoutMs?: number): Promise<string>;
  close(): void;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function openHeadless(
  source: FleetSource,
  options: Partial<DashboardOptions> & { cols: number; rows: number },
): Headless {
  const input = new PassThrough();
  const output = new PassThrough();
  // Read what is written so the stream never buffers, and keep it for tests of the bytes.
  let written = '';
  output.on('data', (chunk: Buffer) => {
    written += chunk.toString();
  });
  const h: Headless = {
    input,
    output,
    quits: 0,
    dashboard: startDashboard({
      source,
      input,
      output,
      noColor: false,
      ascii: false,
      ...options,
      onQuit: () => {
        h.quits++;
      },
    }),
    text: () => h.dashboard.screenText(),
    written: () => written,
    settle: async () => {
      await tick();
      await tick();
    },
    async press(...keys) {
      for (const key of keys) {
        input.write(key);
        await tick();
      }
    },
    async resize(cols, rows) {
      Object.assign(output, { columns: cols, rows });
      output.emit('resize');
      await tick();
    },
    async waitFor(what, timeoutMs = 3000) {
      const shows = (text: string): boolean => (typeof what === 'string' ? text.includes(what) : what.test(text));
      const deadline = Date.now() + timeoutMs;
      while (!shows(h.text())) {
        if (h.quits > 0)
          throw new Error(`the dashboard quit before the screen showed ${String(what)}; it shows:\n${h.text()}`);
        if (Date.now() > deadline) throw new Error(`the screen never showed ${String(what)}; it shows:\n${h.text()}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return h.text();
    },
    close: () => h.dashboard.stop(),
  };
  return h;
}
