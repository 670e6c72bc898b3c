// Prints how long one full frame takes with 1,000 servers at 160x48 (headless, output drained).
// A figure to read, not a timed test. Build, then: node <out>/test/tui/frame-bench.js
import { PassThrough } from 'node:stream';
import { startDashboard } from '../../src/tui/dashboard.js';
import { largeFleet, makeSample } from './fleet-fixture.js';

const SERVERS = 1000;
const FRAMES = 200;

function stats(label: string, ms: number[]): void {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number): string => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(2);
  console.log(`${label.padEnd(44)} median ${at(0.5)} ms  p95 ${at(0.95)} ms  max ${at(1)} ms`);
}

function time(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

const fleet = largeFleet(SERVERS);
const output = new PassThrough();
output.resume();
const dashboard = startDashboard({ source: fleet, input: new PassThrough(), output, cols: 160, rows: 48, noColor: false, ascii: false });

const specs = fleet.list().map((fs) => ({ id: fs.server.id, name: fs.server.name, cores: 32, gpus: fs.server.capabilities!.gpus.map((g) => ({ name: g.name, memoryMib: g.memoryTotalMib ?? 0 })) }));
let t = 1000;

// Warm up the JIT and blessed's caches before measuring.
for (let i = 0; i < 30; i++) dashboard.renderNow();

const steady: number[] = [];
for (let i = 0; i < FRAMES; i++) {
  // Every server sends a sample between frames: the whole fleet changes, as at 1 Hz.
  t++;
  for (const spec of specs) fleet.record(spec.id, makeSample(spec, t, Date.now()));
  steady.push(time(() => dashboard.renderNow()));
}
stats(`${SERVERS} servers, 160x48, every server updated`, steady);

// A key renders at once: time the whole keypress, handling included. 50 pages down, 50 up.
const paging: number[] = [];
for (let i = 0; i < FRAMES; i++) {
  const name = Math.floor(i / 50) % 2 === 0 ? 'pagedown' : 'pageup';
  paging.push(time(() => dashboard.screen.program.emit('keypress', undefined, { name, full: name })));
}
stats(`${SERVERS} servers, 160x48, PgDn/PgUp (new cards)`, paging);

dashboard.stop();
