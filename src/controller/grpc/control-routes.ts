import type { ServerWritableStream } from '@grpc/grpc-js';
import type { ControlServer, PromoteRouteRequest, PromoteRouteResponse } from '../../gen/switchyard/v1/control.js';
import {
  applyRoutes,
  deleteRoute,
  drainBackend,
  listRouteChanges,
  listRoutes,
  promoteRoute,
  PromotionReverted,
  rollbackRoute,
  setRouteWeights,
} from '../service/routes.js';
import type { ControllerService } from '../service/service.js';
import { streaming, unary } from './adapt.js';

export type RouteRpcs =
  | 'listRoutes'
  | 'applyRoutes'
  | 'deleteRoute'
  | 'setRouteWeights'
  | 'promoteRoute'
  | 'rollbackRoute'
  | 'drainBackend'
  | 'listRouteChanges';

/** Control: routing tables — list, apply, weights, promote, rollback, drain, delete, history — over the controller service. */
export function routeControl(service: ControllerService): Pick<ControlServer, RouteRpcs> {
  return {
    listRoutes: unary((_req, caller) => ({ routes: service.read(caller, listRoutes, undefined) })),
    applyRoutes: unary((req, caller) => service.change(caller, applyRoutes, req)),
    deleteRoute: unary(async (req, caller) => ({ change: await service.change(caller, deleteRoute, req.service) })),
    setRouteWeights: unary((req, caller) => service.change(caller, setRouteWeights, req)),
    rollbackRoute: unary((req, caller) => service.change(caller, rollbackRoute, req.service)),
    drainBackend: unary((req, caller) => service.change(caller, drainBackend, req)),
    listRouteChanges: unary((req, caller) => ({ changes: service.read(caller, listRouteChanges, req) })),

    promoteRoute: streaming(async (call: ServerWritableStream<PromoteRouteRequest, PromoteRouteResponse>, caller) => {
      // The promotion goes on in the controller if the caller goes away; only the writes stop.
      const write = (p: PromoteRouteResponse) => {
        if (!call.cancelled) call.write(p);
      };
      // A reverted promotion is a failed action in the audit trail, but a normal end of the stream.
      const final = await service
        .change(caller, promoteRoute, { ...call.request, onStep: write })
        .catch((err: unknown) => {
          if (err instanceof PromotionReverted) return err.final;
          if (call.cancelled) return undefined;
          throw err;
        });
      if (!final) return;
      write(final);
      if (!call.cancelled) call.end();
    }),
  };
}
