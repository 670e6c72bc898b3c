// An attached dashboard cordons, uncordons and drains through the Control API, and sees the
// result on the fleet stream; a viewer is refused by the controller, naming the operation.
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteFleet } from '../../src/cli/remote-fleet.js';
import { localAuth, type ListenerAuth } from '../../src/controller/grpc/auth.js';
import { listAudit } from '../../src/controller/service/audit.js';
import { drainPhases } from '../../src/core/drain.js';
import { controlFixture, type ControlFixture } from './access-fixture.js';

const controls: ControlFixture[] = [];
const fleets: RemoteFleet[] = [];
afterEach(() => {
  for (const f of fleets.splice(0)) f.close();
  for (const c of controls.splice(0)) c.close();
});

async function attached(auth: ListenerAuth) {
  const ctl = await controlFixture(auth);
  controls.push(ctl);
  ctl.connect('edge-1');
  const fleet = new RemoteFleet({ address: ctl.address, from: 'test' });
  fleets.push(fleet);
  await fleet.ready(10_000);
  return { ctl, fleet, edge: () => fleet.get('id-edge-1')?.server };
}

describe('cordon and drain from an attached dashboard', () => {
  it('cordons and uncordons; the fleet stream carries it, and the audit trail records it', async () => {
    const { ctl, fleet, edge } = await attached(localAuth);
    expect(await fleet.actions.cordonServer('id-edge-1', true)).toMatchObject({ name: 'edge-1', cordoned: true });
    await expect.poll(() => edge()?.cordoned).toBe(true);
    expect(ctl.registry.get('edge-1')?.server.cordoned).toBe(true);
    await fleet.actions.cordonServer('id-edge-1', false);
    await expect.poll(() => edge()?.cordoned).toBe(false);
    const trail = ctl.service.read({ name: 'ada', via: 'unix-socket', role: 'admin' }, listAudit, 0);
    expect(trail.slice(0, 2)).toEqual([
      expect.objectContaining({ action: 'server.uncordon', target: 'edge-1', ok: true }),
      expect.objectContaining({ action: 'server.cordon', target: 'edge-1', ok: true }),
    ]);
    const missing = await fleet.actions.drainServer('nope').catch((e: Error) => e);
    expect(missing).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('no server "nope"') });
  });

  it('drains a host with nothing on it: started, cordoned, then drained at once', async () => {
    const { fleet, edge } = await attached(localAuth);
    const started = await fleet.actions.drainServer('id-edge-1');
    expect(started.workloads).toEqual([]);
    await expect.poll(() => edge()?.drain && drainPhases.name(edge()!.drain!.phase)).toBe('drained');
    expect(edge()?.cordoned).toBe(true);
  });

  it('refuses a viewer, naming the operation and the role it needs', async () => {
    const viewer: ListenerAuth = {
      peer: (path) =>
        path.startsWith('/switchyard.v1.Control/')
          ? { kind: 'caller', caller: { name: 'noc-wall', via: 'certificate', role: 'viewer' } }
          : undefined,
    };
    const { fleet, edge } = await attached(viewer);
    await expect(fleet.actions.cordonServer('id-edge-1', true)).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
      message: expect.stringContaining('server.cordon needs the operator role'),
    });
    await expect(fleet.actions.drainServer('id-edge-1')).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
      message: expect.stringContaining('server.drain needs the operator role'),
    });
    expect(edge()?.cordoned).toBe(false);
  });
});
