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
  if (!m || !m[1] || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new YardError('INVALID_ADDRESS', `${what} "${text}" is not HOST:PORT (e.g. 127.0.0.1:50050)`);
  }
  return { host: m[1], port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** True for addresses only this machine can reach: a listener there needs no join token. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
