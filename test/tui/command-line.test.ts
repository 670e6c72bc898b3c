import { afterEach, describe, expect, it } from 'vitest';
import { CommandLine } from '../../src/tui/command-line.js';
import { commandTable } from '../../src/tui/commands.js';
import { VIEWS } from '../../src/tui/views/index.js';
import { sampleFleet } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => h?.close());

const WORKLOADS = ['api-gateway', 'trainer-llama', 'trainer-mistral', 'vector-db'];

function line(text = ''): CommandLine {
  const cl = new CommandLine(commandTable(VIEWS), () => WORKLOADS);
  for (const ch of text) cl.type(ch);
  return cl;
}

describe('command line', () => {
  it('has a command per view plus the command table', () => {
    expect(commandTable(VIEWS).map((c) => c.name)).toEqual([
      'fleet',
      'server',
      'workloads',
      'migrations',
      'routes',
      'deployments',
      'events',
      'migrate',
      'theme',
      'help',
      'q',
    ]);
  });

  it('Tab completes a command name, and lists the candidates when several fit', () => {
    const cl = line('w');
    cl.complete();
    expect(cl.text).toBe('workloads');
    const mi = line('mi');
    mi.complete();
    expect(mi.text).toBe('migrat');
    expect(mi.candidates).toEqual(['migrate', 'migrations']);
    mi.type('e');
    mi.complete();
    expect(mi.text).toBe('migrate ');
    const all = line();
    all.complete();
    expect(all.candidates).toContain('quit');
    expect(all.candidates).toContain('fleet');
  });

  it('Tab completes workload names after :migrate', () => {
    const cl = line('migrate tr');
    cl.complete();
    expect(cl.text).toBe('migrate trainer-');
    expect(cl.candidates).toEqual(['trainer-llama', 'trainer-mistral']);
    cl.type('l');
    cl.complete();
    expect(cl.text).toBe('migrate trainer-llama');
    const none = line('fleet x');
    none.complete();
    expect(none.text).toBe('fleet x');
  });

  it('parses commands, aliases and arguments, and says what is wrong', () => {
    expect(line('migrate vector-db').parse()).toMatchObject({ command: { name: 'migrate' }, arg: 'vector-db' });
    expect(line('quit').parse()).toMatchObject({ command: { name: 'q' } });
    expect(line('bogus').parse()).toEqual({ error: expect.stringContaining('unknown command ":bogus": try :fleet') });
    expect(line('fleet now').parse()).toEqual({ error: ':fleet takes no argument' });
    expect(line('migrate a b').parse()).toEqual({ error: ':migrate takes one WORKLOAD' });
  });

  it(':workloads and :migrations switch views; Tab completes in the footer', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    await h.press(':', 'w', KEY.tab);
    expect(h.text().split('\n')[23]).toMatch(/^ :workloads_ +· +Tab complete +Enter run +Esc cancel/);
    await h.press(KEY.enter);
    expect(h.text()).toContain('Workloads (5)');
    await h.press(':', ...'mig', KEY.tab);
    expect(h.text().split('\n')[23]).toContain(':migrat_   migrate  migrations');
    await h.press(...'ions', KEY.enter);
    expect(h.text()).toContain('Migrations (0 live, 3 shown)');
    await h.press(':', ...'fleet', KEY.enter);
    expect(h.text()).toContain('gpu-a100-01');
    expect(h.text()).toContain('CPU');
  });

  it('Tab completes workload names for :migrate on screen', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    await h.press(':', ...'migrate v', KEY.tab);
    expect(h.text().split('\n')[23]).toContain(':migrate vector-db_');
    await h.press(KEY.enter);
    expect(await h.waitFor('hosts can take it')).toContain('Migrate vector-db');
  });

  it('Esc cancels the command line; an unknown command says so; :q quits', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    await h.press(':', ...'workloads', KEY.escape);
    expect(h.text()).not.toContain('Workloads (5)');
    expect(h.text().split('\n')[23]).not.toContain(':workloads');
    await h.press(':', ...'bogus', KEY.enter);
    expect(h.text().split('\n')[23]).toContain('unknown command ":bogus"');
    await h.press('j');
    expect(h.text().split('\n')[23]).not.toContain('unknown command');
    await h.press(':', 'q', KEY.enter);
    expect(h.quits).toBe(1);
  });
});
