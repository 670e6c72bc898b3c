import type { ServiceError } from '@grpc/grpc-js';
import type { Drain } from '../core/drain.js';
import { YardError } from '../core/errors.js';
import type { ServerActions } from '../core/fleet.js';
import type { Server } from '../core/types.js';
import type { DrainServerResponse } from '../gen/switchyard/v1/control.js';
import { explain, type controlClient, type ControllerTarget } from './client.js';

type Control = ReturnType<typeof controlClient>;

export interface RemoteServerDeps {
  /** The channel in use now (a reconnect replaces it). */
  control(): Control;
  target: ControllerTarget;
}

function answered<T>(target: ControllerTarget, value: T | undefined, what: string): T {
  if (value === undefined)
    throw new YardError('RPC_FAILED', `the controller at ${target.address} ${what} but sent nothing back`);
  return value;
}

/**
 * Cordon and drain as Control calls. A drain is started by its stream's first answer; the
 * stream is then let go (the drain goes on in the controller, and the fleet stream shows it).
 */
export function remoteServerActions(deps: RemoteServerDeps): ServerActions {
  const { target } = deps;
  return {
    cordonServer: async (server, cordoned) => {
      const c = deps.control();
      const res = await c.call(cordoned ? c.client.cordonServer : c.client.uncordonServer, { server });
      return answered<Server>(target, res.server, cordoned ? `cordoned ${server}` : `uncordoned ${server}`);
    },
    drainServer: (server) =>
      new Promise<Drain>((resolve, reject) => {
        const c = deps.control();
        const stream = c.client.drainServer({ server, deadlineMs: 0, parallel: 0 }, c.metadata);
        stream.on('data', (res: DrainServerResponse) => {
          stream.cancel();
          resolve(answered(target, res.drain, `started draining ${server}`));
        });
        stream.on('error', (err: ServiceError) => reject(explain(err, target)));
        stream.on('end', () =>
          reject(
            new YardError('RPC_FAILED', `the controller at ${target.address} ended the drain of ${server} unseen`),
          ),
        );
      }),
  };
}
