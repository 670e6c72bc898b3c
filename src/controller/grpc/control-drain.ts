import type { ServerWritableStream } from '@grpc/grpc-js';
import { drainDone } from '../../core/drain.js';
import type { Server } from '../../core/types.js';
import type { ControlServer, DrainServerRequest, DrainServerResponse } from '../../gen/switchyard/v1/control.js';
import { cordonServer, drainServer, uncordonServer, watchDrain } from '../service/drain.js';
import { findServer } from '../service/servers.js';
import type { ControllerService } from '../service/service.js';
import { streaming, unary } from './adapt.js';

export type DrainRpcs = 'cordonServer' | 'uncordonServer' | 'drainServer';

/** Control: cordon, uncordon and drain, over the controller service. */
export function drainControl(service: ControllerService): Pick<ControlServer, DrainRpcs> {
  return {
    cordonServer: unary(async (req, caller) => ({ server: await service.change(caller, cordonServer, req.server) })),
    uncordonServer: unary(async (req, caller) => ({
      server: await service.change(caller, uncordonServer, req.server),
    })),
    drainServer: streaming(async (call: ServerWritableStream<DrainServerRequest, DrainServerResponse>, caller) => {
      const { server, deadlineMs, parallel } = call.request;
      // A drain under way is followed, not started again: a CLI that lost its stream comes back to it.
      const running = service.read(caller, findServer, server)?.server.drain;
      if (!running || drainDone(running))
        await service.change(caller, drainServer, { server, deadlineMs: Number(deadlineMs), parallel });
      const stop = service.read(caller, watchDrain, {
        server,
        listener: (s: Server) => {
          call.write({ serverId: s.id, drain: s.drain });
          if (!s.drain || drainDone(s.drain)) call.end();
        },
      });
      call.on('cancelled', stop);
    }),
  };
}
