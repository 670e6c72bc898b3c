import { afterEach, describe, expect, it } from 'vitest';
import { WorkloadState } from '../../src/core/workload.js';
import { sampleFleet } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => h?.close());

const row = (text: string, name: string): string => text.split('\n').find((l) => l.includes(` ${name} `)) ?? '';

describe('workloads view', () => {
  it('fits 80x24: name, server, state, CPU, RSS, GPU memory and uptime, lower columns dropped', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    await h.press('w');
    const text = h.text();
    const lines = text.split('\n');
    expect(lines).toHaveLength(24);
    expect(lines.every((l) => [...l].length <= 80)).toBe(true);
    expect(lines[0]).toContain('Workloads');
    expect(text).toContain('Workloads (5)');
    expect(text).toMatch(/NAME +SERVER +STATE +CPU +RSS +GPU MEM +UPTIME/);
    expect(text).not.toContain('STRATEGY');
    expect(text).not.toContain('RESTARTS');
    expect(row(text, 'trainer-llama')).toMatch(/trainer-llama +gpu-a100-01 +● running +88% +34\.0G +12\.0G +3h12m/);
    expect(row(text, 'embedder')).toMatch(/embedder +gpu-a100-01 +● running +23% +8\.0G +40\.0G +1d02h/);
    expect(row(text, 'api-gateway')).toMatch(/api-gateway +gpu-t4-03 +● running +4% +310M +– +2h00m/);
    // An exited workload on a disconnected host: no numbers, never zeros.
    expect(row(text, 'nightly-etl')).toMatch(/nightly-etl +cpu-web-02 +○ exited 0 +– +– +– +–/);
    expect(lines[23]).toMatch(/v migrate +t logs +s stop +Enter server/);
    expect(lines[23]).toContain('4 of 5 running');
  });

  it('shows every column at 160x48, and the header counts workloads', async () => {
    h = openHeadless(sampleFleet(), { cols: 160, rows: 48 });
    await h.press('w');
    const text = h.text();
    expect(text).toMatch(/NAME +SERVER +STATE +STRATEGY +CPU +RSS +GPU MEM +UPTIME +RESTARTS/);
    expect(row(text, 'api-gateway')).toMatch(/api-gateway +gpu-t4-03 +● running +restart +4% +310M +– +2h00m +2/);
    expect(row(text, 'trainer-llama')).toMatch(/checkpoint +88%/);
    expect(row(text, 'embedder')).toMatch(/freeze +23% .* 1 +│$/);
    expect(text.split('\n')[0]).toContain('4/5 workloads running');
  });

  it('moves the selection with j/k and filters with /', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    await h.press('w');
    expect(h.text()).toContain('▶ api-gateway');
    await h.press('j', 'j');
    expect(h.text()).toContain('▶ nightly-etl');
    await h.press('k');
    expect(h.text()).toContain('▶ embedder');
    await h.press('/', ...'team=ml');
    let text = h.text();
    expect(text).toContain('filter: /team=ml');
    expect(text).toContain('trainer-llama');
    expect(text).not.toContain('api-gateway');
    await h.press(
      KEY.backspace,
      KEY.backspace,
      KEY.backspace,
      KEY.backspace,
      KEY.backspace,
      KEY.backspace,
      KEY.backspace,
      ...'gpu-t4',
    );
    text = h.text();
    expect(text).toContain('vector-db');
    expect(text).toContain('api-gateway');
    expect(text).not.toContain('trainer-llama');
    await h.press(KEY.enter);
    expect(h.text()).toContain('2 of 5 match');
    await h.press(KEY.escape);
    expect(h.text()).toContain('trainer-llama');
  });

  it('keeps its filter apart from the fleet grid', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    await h.press('w', '/', ...'vector', KEY.enter, 'f');
    expect(h.text()).toContain('cpu-web-02');
    expect(h.text()).not.toContain('filter "vector"');
    await h.press('w');
    expect(h.text()).toContain('filter "vector"');
  });

  it('Enter opens the server of the selected workload; Esc comes back to the list', async () => {
    h = openHeadless(sampleFleet(), { cols: 160, rows: 48 });
    await h.press('w', 'G', 'k', KEY.enter);
    expect(h.text().split('\n')[0]).toContain('Fleet › gpu-a100-01');
    expect(h.text()).toContain('Workloads (2)');
    await h.press(KEY.escape);
    expect(h.text()).toContain('▶ trainer-llama');
    expect(h.text()).toContain('Workloads (5)');
  });

  it('redraws when a workload changes', async () => {
    const fleet = sampleFleet();
    h = openHeadless(fleet, { cols: 80, rows: 24 });
    await h.press('w');
    const w = fleet.workloads().find((x) => x.spec?.name === 'vector-db')!;
    fleet.putWorkload({ ...w, state: WorkloadState.WORKLOAD_STATE_BACKOFF, restarts: 3 });
    expect(row(await h.waitFor('↻ backoff'), 'vector-db')).toMatch(/vector-db +gpu-t4-03 +↻ backoff/);
  });

  it('reads without colour or Unicode: a symbol and a word for each state', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24, ascii: true, noColor: true });
    await h.press('w');
    const text = h.text();
    expect(text).toContain('> api-gateway');
    expect(text).toMatch(/\* running/);
    expect(text).toMatch(/o exited/);
    expect(text.replace(/[\u2500-\u257f]/g, '')).toMatch(/^[\x20-\x7e\n]*$/);
  });
});
