import { isIP } from 'node:net';
import { YardError } from './errors.js';

export interface HostPort {
  host: string;
  port: number;
}

/** Parses "HOST:PORT" or "[V6]:PORT". */
export function parseHostPort(text: string, what = 'address'): HostPort {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:\s]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m?.[1] || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new YardError('INVALID_ADDRESS', `${what} "${text}" is not HOST:PORT (e.g. 127.0.0.1:50050)`);
  }
  return { host: m[1], port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** A DNS host name (not an all-digits IPv4 look-alike). */
export function isHostName(text: string): boolean {
  return HOSTNAME.test(text) && !/^[\d.]+$/.test(text);
}

/** "HOST:PORT" with an IPv4, [IPv6] or host name, and a port from 1 to 65535. */
export function isBackendAddress(text: string): boolean {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:\s[\]]+):(\d{1,5})$/.exec(text);
  if (!m) return false;
  const port = Number(m[2]);
  const host = m[1]!;
  const v6 = text.startsWith('[');
  return port >= 1 && port <= 65535 && (v6 ? isIP(host) === 6 : isIP(host) === 4 || isHostName(host));
}

/** True for addresses only this machine can reach: a listener there needs no join token. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** One HOST:PORT (checked as parseHostPort does, port 0 included), or a list with a comma (parseHostPortList). */
export function parseAddressOrList(text: string, what = 'address'): string[] {
  if (text.includes(',')) return parseHostPortList(text, what);
  parseHostPort(text, what);
  return [text];
}

/**
 * "A:PORT,B:PORT,…": the controllers to try, in order. Each entry is a HOST:PORT to dial (a DNS
 * name may stand for several addresses: the dialer resolves it anew on every dial). Empty
 * entries, port 0 and a repeated address are refused, naming `what` and the bad entry.
 */
export function parseHostPortList(text: string, what = 'address'): string[] {
  const entries = text.split(',').map((e) => e.trim());
  if (entries.length === 0 || entries.every((e) => e === ''))
    throw new YardError('INVALID_ADDRESS', `${what} is empty: give HOST:PORT, or several as A:PORT,B:PORT`);
  const seen = new Map<string, number>();
  entries.forEach((entry, i) => {
    const which = entries.length > 1 ? ` (entry ${i + 1} of "${text}")` : '';
    if (entry === '')
      throw new YardError(
        'INVALID_ADDRESS',
        `${what} has an empty entry${which}: separate addresses with single commas, e.g. 10.0.0.1:50050,10.0.0.2:50050`,
      );
    const { host, port } = parseHostPort(entry, `${what} entry`);
    if (port === 0)
      throw new YardError(
        'INVALID_ADDRESS',
        `${what} "${entry}"${which} has port 0, which no controller listens on: give the port it listens on (e.g. 127.0.0.1:50050)`,
      );
    const key = formatHostPort({ host: host.toLowerCase(), port });
    const first = seen.get(key);
    if (first !== undefined)
      throw new YardError(
        'INVALID_ADDRESS',
        `${what} names ${entry} twice (entries ${first + 1} and ${i + 1}): list each controller once`,
      );
    seen.set(key, i);
  });
  return entries;
}
