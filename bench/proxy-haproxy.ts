// HAProxy doing the same forwarding as the yard proxy in the proxy benchmark: TCP mode, one
// thread, 127.0.0.1:<free port> → the backend, started in the foreground (-db) as our child.
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { freePort, tempDir, waitUntil } from './lib.js';

export interface RunningHaproxy {
  pid: number;
  address: string;
  /** "HAProxy version 2.6.12-1+deb12u3 …", from `haproxy -v`. */
  version: string;
  stop(): Promise<void>;
}

/** $YARD_BENCH_HAPROXY (only that, when set), else `haproxy` on PATH, then the sbin dirs a user's PATH often lacks. */
export function findHaproxy(): string | undefined {
  const override = process.env.YARD_BENCH_HAPROXY;
  const candidates = override
    ? [resolve(override)]
    : [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin'].map((dir) =>
        join(dir, 'haproxy'),
      );
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** As shipped except what makes it comparable: one thread, loopback, no health checks. */
function config(listenPort: number, backend: string): string {
  return [
    'global',
    '    nbthread 1',
    '    maxconn 4096',
    'defaults',
    '    mode tcp',
    '    timeout connect 5s',
    '    timeout client 60s',
    '    timeout server 60s',
    'frontend yard_bench',
    `    bind 127.0.0.1:${listenPort}`,
    '    default_backend yard_bench_backend',
    'backend yard_bench_backend',
    `    server backend ${backend}`,
    '',
  ].join('\n');
}

function accepts(address: string): Promise<boolean | undefined> {
  const [host, port] = address.split(':');
  return new Promise((res) => {
    const sock = connect({ host, port: Number(port) });
    sock.once('connect', () => {
      sock.destroy();
      res(true);
    });
    sock.once('error', () => res(undefined));
  });
}

export async function startHaproxy(bin: string, backend: string): Promise<RunningHaproxy> {
  const version = execFileSync(bin, ['-v'], { encoding: 'utf8', timeout: 10_000 }).split('\n', 1)[0]!.trim();
  const dir = tempDir('yard-bench-haproxy-');
  const port = await freePort();
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config(port, backend));
  const child = spawn(bin, ['-f', file, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${bin}`);
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  // The bench exits on SIGINT through process.exit(): take HAProxy with it.
  const killNow = () => child.kill('SIGKILL');
  process.once('exit', killNow);
  const stop = async () => {
    process.removeListener('exit', killNow);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(killNow, 3000);
    await exited;
    clearTimeout(t);
  };
  const address = `127.0.0.1:${port}`;
  try {
    await waitUntil(
      `${bin} to accept on ${address}`,
      () => {
        if (child.exitCode !== null) throw new Error(`haproxy exited (code ${child.exitCode}): ${output.slice(-500)}`);
        return accepts(address);
      },
      10_000,
      50,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid: child.pid, address, version, stop };
}
