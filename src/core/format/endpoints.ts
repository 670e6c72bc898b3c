import { ROUTE_DEFAULTS, type EndpointStatus, type RouteListen } from '../route.js';
import { UNKNOWN } from './numbers.js';

/** Server id → its name, where it is known. */
type ServerNameOf = (id: string) => string | undefined;

/**
 * A backend as operators name it: its workload on the server it runs on ("api-blue@gpu-01"),
 * or its address. Workload endpoints are keyed "workload@server id"; "@-" means nowhere yet.
 */
export function endpointName(s: EndpointStatus, serverName: ServerNameOf): string {
  const e = s.endpoint;
  if (!e) return s.stats?.key ?? UNKNOWN;
  const at = e.key.startsWith(`${e.backend}@`) ? e.key.slice(e.backend.length + 1) : '';
  if (!at || at === '-') return e.backend || e.key;
  return `${e.backend}@${serverName(at) ?? at}`;
}

/**
 * "edge-1:8080"; "edge-1 10.0.0.5:8080" when it binds one address rather than every interface.
 * `server` is the proxy's name where the caller knows it better than the table does.
 */
export function listenText(listen: RouteListen | undefined, server?: string): string {
  if (!listen) return UNKNOWN;
  const name = server ?? listen.server;
  const bound = listen.host && listen.host !== ROUTE_DEFAULTS.listenHost;
  return bound ? `${name} ${listen.host}:${listen.port}` : `${name}:${listen.port}`;
}
