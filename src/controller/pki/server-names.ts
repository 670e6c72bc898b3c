import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { isHostName } from '../../core/address.js';
import { YardError } from '../../core/errors.js';

/** The names a server certificate holds: clients check the one they dialled against these. */
export interface ServerNames {
  ips: string[];
  dns: string[];
}

/**
 * The names clients may dial the controller by: the listen host (every address of this machine
 * when it listens on all of them), the hostname, and the extra names an operator gives (the
 * name or address a NAT or load balancer puts in front, `--advertise-name`).
 */
export function serverNames(listenHost: string, extra: readonly string[] = [], host = hostname()): ServerNames {
  const wildcard = listenHost === '0.0.0.0' || listenHost === '::';
  const given = [...(wildcard ? interfaceAddresses() : [listenHost]), host, ...extra];
  const ips = new Set<string>();
  const dns = new Set<string>();
  for (const name of given) {
    if (isIP(name)) ips.add(name);
    else if (isHostName(name)) dns.add(name.toLowerCase());
    else
      throw new YardError(
        'INVALID_ARGUMENT',
        `"${name}" cannot name the controller in its certificate: give a host name (controller.example.net) or an IP address`,
      );
  }
  return { ips: [...ips].sort(), dns: [...dns].sort() };
}

function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address));
}
