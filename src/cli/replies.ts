// The controller's answers, parsed where they arrive: ts-proto makes a workload's spec, a route's
// table and an endpoint's identity optional, but the controller always sends them, so past this
// point the CLI works with the domain types and an answer that lacks one is an error here.
import { knownWorkload, routeState, type KnownWorkload, type RouteState } from '../core/domain.js';
import { YardError, errorMessage } from '../core/errors.js';
import type { MigrationPlan } from '../core/fleet.js';
import type { RouteStatus } from '../core/route.js';
import type { Workload } from '../core/workload.js';
import type { PlanMigrationResponse, PromoteRouteResponse } from '../gen/switchyard/v1/control.js';
import type { ControllerTarget } from './client.js';

/** One step of a promotion, with the route as it stands after it. */
export type PromotionUpdate = PromoteRouteResponse & { route: RouteState };

/** Runs `parse` on an answer; what it refuses becomes the controller's fault, said as such. */
function parsed<T>(target: ControllerTarget, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new YardError(
      'RPC_FAILED',
      `the controller at ${target.address} sent an answer this yard cannot use (${errorMessage(err)}); check that yard and the controller run the same version (yard --version)`,
    );
  }
}

/** The answer's workload; an answer without one is refused saying what was asked (`what`: "stopped web"). */
export function answeredWorkload(target: ControllerTarget, res: { workload?: Workload }, what: string): KnownWorkload {
  const { workload } = res;
  if (!workload)
    throw new YardError('RPC_FAILED', `the controller at ${target.address} ${what} but sent no workload back`);
  return parsed(target, () => knownWorkload(workload));
}

/** The answer's route; an answer without one is refused saying what was asked (`what`: "rolled back web"). */
export function answeredRoute(target: ControllerTarget, res: { route?: RouteStatus }, what: string): RouteState {
  const { route } = res;
  if (!route) throw new YardError('RPC_FAILED', `the controller at ${target.address} ${what} but sent no route back`);
  return parsed(target, () => routeState(route));
}

export function knownWorkloads(target: ControllerTarget, workloads: Workload[]): KnownWorkload[] {
  return parsed(target, () => workloads.map(knownWorkload));
}

export function routeStates(target: ControllerTarget, routes: RouteStatus[]): RouteState[] {
  return parsed(target, () => routes.map(routeState));
}

export function migrationPlan(target: ControllerTarget, plan: PlanMigrationResponse): MigrationPlan {
  return { ...plan, workload: answeredWorkload(target, plan, 'planned the migration') };
}

export function promotionUpdate(target: ControllerTarget, p: PromoteRouteResponse): PromotionUpdate {
  const { route } = p;
  if (!route)
    throw new YardError(
      'RPC_FAILED',
      `the controller at ${target.address} reported a step of the promotion without its route; \`yard routes\` shows where it stands`,
    );
  return { ...p, route: parsed(target, () => routeState(route)) };
}
