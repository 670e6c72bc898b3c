// `q` in the embedded dashboard stops its controller: with nothing else using it that is one
// key; with other dashboards attached or other hosts' agents connected it asks first and says
// what keeps running. The built `yard` in real ptys, a real agent process.
import { afterEach, expect, it } from 'vitest';
import { assertBuilt, freePort, joinArgs, startAgentProc, tempDir, type YardProcess } from '../helpers/procs.js';
import { ptyYard, type PtyScreen } from '../helpers/pty.js';

const ptys: PtyScreen[] = [];
const agents: YardProcess[] = [];

afterEach(async () => {
  await Promise.all(ptys.splice(0).map((p) => p.stop()));
  await Promise.all(agents.splice(0).map((a) => a.kill('SIGKILL')));
});

async function embedded(): Promise<{ p: PtyScreen; ctlDir: string; address: string }> {
  assertBuilt();
  const ctlDir = tempDir();
  const address = `127.0.0.1:${await freePort()}`;
  const p = ptyYard(['--data-dir', ctlDir, '--listen', address, '--no-local-agent'], { cols: 120, rows: 40 });
  ptys.push(p);
  await p.waitFor(/\(embedded\)/);
  return { p, ctlDir, address };
}

it('quits at once when nobody else uses the controller', async () => {
  const { p } = await embedded();
  p.write('q');
  expect(await p.exited).toBe(0);
});

it('asks before stopping a controller another dashboard watches, and says what keeps running', async () => {
  const { p, ctlDir } = await embedded();
  const other = ptyYard(['--data-dir', ctlDir], { cols: 100, rows: 30 });
  ptys.push(other);
  await other.waitFor(/\(attached\)/);
  p.write('q');
  let text = await p.waitFor(/Are you sure\?/);
  expect(text.replace(/[│\s]+/g, ' ')).toMatch(
    /Quit and stop this controller\? 1 other dashboard or CLI uses it\. Workloads keep running on their hosts; agents reconnect when a controller is back\./,
  );
  // No: everything stays as it was.
  p.write('n');
  text = await p.waitFor((t) => !t.includes('Are you sure?'));
  expect(p.exitCode).toBeUndefined();
  expect(await other.waitFor(/\(attached\)/)).not.toMatch(/unreachable|disconnected from/i);
  // Yes: the controller stops, and the attached dashboard says so.
  p.write('q');
  await p.waitFor(/Are you sure\?/);
  p.write('y');
  expect(await p.exited).toBe(0);
  await other.waitFor(/unreachable|reconnecting|lost|disconnected/i, 15_000);
});

it('counts agents on other hosts, and Ctrl-C while asked quits', async () => {
  const { p, ctlDir, address } = await embedded();
  agents.push(
    startAgentProc(address, tempDir(), ['--name', 'far-box', '--nvidia-smi', '/nonexistent', ...joinArgs(ctlDir)]),
  );
  // A busy machine may take a while to start an agent.
  await p.waitFor(/1\/1 online/, 30_000);
  p.write('q');
  const text = await p.waitFor(/Are you sure\?/);
  expect(text.replace(/[│\s]+/g, ' ')).toMatch(/1 agent on other hosts uses it/);
  p.write('\x03');
  expect(await p.exited).toBe(0);
});
