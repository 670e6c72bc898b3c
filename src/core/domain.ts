// The domain view of the wire types: ts-proto makes every sub-message optional, but past the
// edges a workload always has its spec, a route table where it listens, and a route's endpoint
// what it is. Wire messages are parsed into these at the edges (agent session, Control handlers,
// store, the dashboard's fleet sources); being subtypes, they go back onto the wire as they are.
import { YardError } from './errors.js';
import type { Endpoint, EndpointStatus, Route, RouteListen, RouteStatus } from './route.js';
import type { Workload, WorkloadSpec } from './workload.js';

/** A workload as the controller keeps it. */
export interface KnownWorkload extends Workload {
  spec: WorkloadSpec;
}

/** A checked route table: where it listens is known. */
export interface RouteTable extends Route {
  listen: RouteListen;
}

/** One endpoint of a route, as the router resolved it. */
export interface EndpointState extends EndpointStatus {
  endpoint: Endpoint;
}

/** A route as operators see it, as the router builds it. */
export interface RouteState extends RouteStatus {
  route: RouteTable;
  endpoints: EndpointState[];
}

/** A workload an agent reports; one without its spec is refused (an agent always sends it). */
export function knownWorkload(w: Workload): KnownWorkload {
  if (!w.spec)
    throw new YardError(
      'INVALID_ARGUMENT',
      'workload snapshot: a workload came without its spec; agents send each workload with the spec it runs',
    );
  return { ...w, spec: w.spec };
}

/** A route table once checked; one that names no listener is refused. */
export function routeTable(r: Route): RouteTable {
  if (!r.listen)
    throw new YardError(
      'INVALID_ARGUMENT',
      `route ${r.name}: listen is required: give the proxy server and port it listens on`,
      { route: r.name },
    );
  return { ...r, listen: r.listen };
}

/** One endpoint of a route's status; one that does not say which endpoint it is is refused. */
function endpointState(service: string, e: EndpointStatus): EndpointState {
  if (!e.endpoint)
    throw new YardError(
      'INVALID_ARGUMENT',
      `route ${service}: an endpoint's status came without the endpoint it describes; the router names each one`,
      { route: service },
    );
  return { ...e, endpoint: e.endpoint };
}

/** A route's status as the router sends it: its table and each endpoint's identity are required. */
export function routeState(s: RouteStatus): RouteState {
  if (!s.route)
    throw new YardError(
      'INVALID_ARGUMENT',
      'route status: a route came without its table; the router sends each route with the table it serves',
    );
  const route = routeTable(s.route);
  return { ...s, route, endpoints: s.endpoints.map((e) => endpointState(route.name, e)) };
}
