import type { ServerWritableStream } from '@grpc/grpc-js';
import type {
  ControlServer,
  WatchDeploymentRequest,
  WatchDeploymentResponse,
} from '../../gen/switchyard/v1/control.js';
import type { DeploymentStatus } from '../../core/deployment.js';
import {
  applyDeployment,
  deleteDeployment,
  getDeployment,
  listDeployments,
  restartDeployment,
  scaleDeployment,
  watchDeployment,
} from '../service/deployments.js';
import type { ControllerService } from '../service/service.js';
import { streaming, unary } from './adapt.js';

type DeploymentRpcs =
  | 'applyDeployment'
  | 'listDeployments'
  | 'getDeployment'
  | 'watchDeployment'
  | 'scaleDeployment'
  | 'restartDeployment'
  | 'deleteDeployment';

/** Control: deployments — apply, list, get, watch, scale, restart, delete — over the controller service. */
export function deploymentControl(service: ControllerService): Pick<ControlServer, DeploymentRpcs> {
  return {
    applyDeployment: unary((req, caller) => service.change(caller, applyDeployment, req.deployment)),
    listDeployments: unary((_req, caller) => ({ deployments: service.read(caller, listDeployments, undefined) })),
    getDeployment: unary((req, caller) => ({ status: service.read(caller, getDeployment, req.name) })),
    scaleDeployment: unary(async (req, caller) => ({ status: await service.change(caller, scaleDeployment, req) })),
    restartDeployment: unary(async (req, caller) => ({
      status: await service.change(caller, restartDeployment, req.name),
    })),
    deleteDeployment: unary(async (req, caller) => ({
      removed: await service.change(caller, deleteDeployment, req.name),
    })),
    watchDeployment: streaming(
      (call: ServerWritableStream<WatchDeploymentRequest, WatchDeploymentResponse>, caller) => {
        const stop = service.read(caller, watchDeployment, {
          name: call.request.name,
          listener: (status: DeploymentStatus | undefined) => {
            if (call.cancelled) return;
            if (status) call.write({ status });
            else call.end();
          },
        });
        call.on('cancelled', stop);
        call.on('close', stop);
      },
    ),
  };
}
