// One active health check of an endpoint: a TCP connect, or an HTTP/1.1 GET.
import { request } from 'node:http';
import { connect } from 'node:net';
import { HealthCheckKind } from '../../core/route.js';
import type { HealthSettings } from './health-settings.js';

export interface ProbeTarget {
  host: string;
  port: number;
  /** HOST:PORT, as placed: the Host header of HTTP checks. */
  address: string;
}

/** Runs one check: undefined when it passes, else what failed in a few words. */
export function probe(target: ProbeTarget, settings: HealthSettings): Promise<string | undefined> {
  return settings.kind === HealthCheckKind.HEALTH_CHECK_KIND_HTTP
    ? httpProbe(target, settings)
    : tcpProbe(target, settings.timeoutMs);
}

/** A failed connect in the operator's words: "connect refused", "connect timed out". */
export function connectFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connect refused';
    case 'ETIMEDOUT':
      return 'connect timed out';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
      return 'host unreachable';
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    default:
      return `connect failed (${code ?? (err instanceof Error ? err.message : String(err))})`;
  }
}

function tcpProbe(target: ProbeTarget, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = connect({ host: target.host, port: target.port });
    sock.setTimeout(timeoutMs);
    sock.once('timeout', () => {
      resolve('connect timed out');
      sock.destroy();
    });
    sock.once('connect', () => {
      resolve(undefined);
      sock.destroy();
    });
    sock.on('error', (err) => resolve(connectFailure(err)));
  });
}

function httpProbe(target: ProbeTarget, settings: HealthSettings): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({
      host: target.host,
      port: target.port,
      path: settings.path,
      method: 'GET',
      agent: false,
      headers: { host: target.address, 'user-agent': 'switchyard-health-check', connection: 'close' },
    });
    // One deadline for the whole exchange: a server that trickles bytes still fails.
    const timer = setTimeout(() => {
      resolve(`no answer within ${settings.timeoutMs} ms`);
      req.destroy();
    }, settings.timeoutMs);
    req.once('response', (res) => {
      clearTimeout(timer);
      const status = res.statusCode ?? 0;
      resolve(status >= 200 && status < 400 ? undefined : `HTTP ${status} from GET ${settings.path}`);
      res.destroy();
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      resolve(connectFailure(err));
    });
    req.end();
  });
}
