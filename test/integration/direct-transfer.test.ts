// Checkpoints move agent to agent (issue 13): with real agents that can reach each other the
// bytes go straight from the source to the target, over TLS with both agents' certificates, and
// the record says "direct"; agents in network namespaces with no route between them fall back to
// the relay through the controller, and the record says "relay". Either way the job resumes
// where it stopped, its state checked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationPhases } from '../../src/core/workload.js';
import { fleet, type Fleet, moveCounter, startMove } from '../helpers/move-fleet.js';
import { createHosts, netnsAvailable } from '../helpers/netns.js';
import { waitFor } from '../helpers/procs.js';

describe('checkpoints move agent to agent', () => {
  let f: Fleet;
  beforeAll(async () => {
    f = await fleet();
  }, 60_000);
  afterAll(async () => {
    f?.api.close();
    await Promise.all((f?.procs ?? []).map((p) => p.stop()));
  });

  it('straight from the source agent to the target, and the job resumes from its checked state', {
    timeout: 120_000,
  }, async () => {
    const done = await moveCounter(f, 'direct-job', 24);
    expect(migrationPhases.name(done.phase), done.error).toBe('committed');
    expect(done.transferPath).toBe('direct');
    expect(done.timings?.transferBytes).toBeGreaterThan(24 * 1024 * 1024);
    // Packed as it was sent: the save made no archive, and the sha256 was learned on the way.
    expect(done.checkpointSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(f.agents.b.output).not.toMatch(/direct transfer of checkpoint .* broke off/);
    const logs = await f.api.logs('direct-job');
    expect(logs).toMatch(/resumed at n=\d+/);
    // The controller only brokered: it never held the archive, and says nothing of a relay.
    expect(f.ctl.output).not.toMatch(/relaying it through the controller/);
  });

  it('shows how far a direct transfer has got while it runs, as the target reports it', {
    timeout: 180_000,
  }, async () => {
    // The archive path: pre-copy would leave the last transfer too short to watch.
    const m = await startMove(f, 'big-job', 300, { precopy: false });
    const seen = new Set<number>();
    let done: Awaited<ReturnType<typeof f.api.waitForMigrationEnd>> | undefined;
    for (const deadline = Date.now() + 150_000; !done && Date.now() < deadline; ) {
      const now = (await f.api.migrations()).find((x) => x.id === m.id)!;
      if (migrationPhases.name(now.phase) === 'transferring') seen.add(now.bytesDone);
      if (['committed', 'rolled_back', 'failed'].includes(migrationPhases.name(now.phase))) done = now;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(done && migrationPhases.name(done.phase)).toBe('committed');
    expect(done!.transferPath).toBe('direct');
    const between = [...seen].filter((b) => b > 0 && b < done!.bytesTotal);
    expect(between.length, `bytesDone seen while transferring: ${[...seen].join(', ')}`).toBeGreaterThan(0);
  });

  it('the source agent SIGKILLed mid-transfer: the move rolls back to the source from the same checkpoint, one host only', {
    timeout: 180_000,
  }, async () => {
    const m = await startMove(f, 'cut-job', 400, { precopy: false });
    await f.api.waitForPhase(m.id, 'transferring', 60_000);
    await f.agents.a.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    f.restart('a');
    const done = await f.api.waitForMigrationEnd(m.id, 150_000);
    expect(['rolled_back', 'committed']).toContain(migrationPhases.name(done.phase));
    const live = await waitFor(
      'cut-job running on one host',
      async () => {
        const l = await f.api.liveInstances('cut-job');
        return l.length === 1 && l[0]!.state !== undefined ? l : undefined;
      },
      60_000,
    );
    expect(live).toHaveLength(1);
    await waitFor(
      'cut-job resumed',
      async () => (/resumed at n=\d+/.test(await f.api.logs('cut-job')) ? true : undefined),
      60_000,
    );
  });
});

describe.skipIf(!netnsAvailable())('agents that cannot reach each other', () => {
  let f: Fleet;
  let net: ReturnType<typeof createHosts>;
  beforeAll(async () => {
    net = createHosts(2);
    const [a, b] = net.hosts as [(typeof net.hosts)[0], (typeof net.hosts)[0]];
    // Each namespace reaches the controller over its own veth; there is no route between them.
    f = await fleet({ a: a.wrap, b: b.wrap, dial: { a: a.gateway, b: b.gateway } });
  }, 60_000);
  afterAll(async () => {
    f?.api.close();
    await Promise.all((f?.procs ?? []).map((p) => p.stop()));
    net?.destroy();
  });

  it('fall back to the relay through the controller, and the record says so', { timeout: 120_000 }, async () => {
    const done = await moveCounter(f, 'relayed-job', 8);
    expect(migrationPhases.name(done.phase), done.error).toBe('committed');
    expect(done.transferPath).toBe('relay');
    expect(f.ctl.output).toMatch(/direct checkpoint transfer impossible; relaying it through the controller/);
    expect(await f.api.logs('relayed-job')).toMatch(/resumed at n=\d+/);
  });
});
