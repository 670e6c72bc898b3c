// An attached dashboard's source asks the controller once who it is (WhoAmI) and hands the role
// to the dashboard; a viewer's actions are refused by the controller itself, naming the role.
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteFleet } from '../../src/cli/remote-fleet.js';
import { localAuth, type ListenerAuth } from '../../src/controller/grpc/auth.js';
import { removeServer } from '../../src/controller/service/access.js';
import type { FleetChange } from '../../src/core/fleet.js';
import { controlFixture, type ControlFixture } from './access-fixture.js';

const controls: ControlFixture[] = [];
const fleets: RemoteFleet[] = [];
afterEach(() => {
  for (const f of fleets.splice(0)) f.close();
  for (const c of controls.splice(0)) c.close();
});

async function controlOn(auth: ListenerAuth): Promise<ControlFixture> {
  const c = await controlFixture(auth);
  controls.push(c);
  return c;
}

function attach(address: string): { fleet: RemoteFleet; changes: FleetChange[] } {
  const fleet = new RemoteFleet({ address, from: 'test' });
  fleets.push(fleet);
  const changes: FleetChange[] = [];
  fleet.subscribe((c) => changes.push(c));
  return { fleet, changes };
}

const viewerAuth: ListenerAuth = {
  peer: (path) =>
    path.startsWith('/switchyard.v1.Control/')
      ? { kind: 'caller', caller: { name: 'noc-wall', via: 'certificate', role: 'viewer' } }
      : undefined,
};

describe('an attached dashboard learns its role', () => {
  it('as a viewer: told before it is ready, and the controller refuses its actions naming the operator role', async () => {
    const { fleet, changes } = attach((await controlOn(viewerAuth)).address);
    expect(fleet.role).toBe('viewer');
    await fleet.ready(10_000);
    expect(fleet.role).toBe('viewer');
    expect(changes).toContainEqual({ kind: 'role', role: 'viewer' });
    await expect(fleet.actions.stopWorkload('web')).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
      message: expect.stringContaining('workload.stop needs the operator role; noc-wall (certificate) has viewer'),
    });
  });

  it('as an admin on the Unix socket', async () => {
    const { fleet, changes } = attach((await controlOn(localAuth)).address);
    await fleet.ready(10_000);
    expect(fleet.role).toBe('admin');
    expect(changes.filter((c) => c.kind === 'role')).toEqual([{ kind: 'role', role: 'admin' }]);
  });
});

describe('a removed server', () => {
  it('leaves every watching dashboard at once: the stream sends a fresh snapshot without it', async () => {
    const ctl = await controlOn(localAuth);
    ctl.connect('edge-1');
    ctl.connect('edge-2');
    const { fleet, changes } = attach(ctl.address);
    await fleet.ready(10_000);
    expect(fleet.list().map((fs) => fs.server.name)).toEqual(['edge-1', 'edge-2']);
    changes.length = 0;
    await ctl.service.change({ name: 'ada', via: 'unix-socket', role: 'admin' }, removeServer, 'edge-1');
    await expect.poll(() => fleet.list().map((fs) => fs.server.name)).toEqual(['edge-2']);
    expect(changes).toContainEqual({ kind: 'server', id: 'id-edge-1' });
  });
});
