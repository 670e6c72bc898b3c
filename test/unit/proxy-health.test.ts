import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendHealth, HealthCheckKind } from '../../src/core/route.js';
import {
  Backend,
  cleanup,
  endpoint,
  endpointStats,
  freePort,
  healthOf,
  oneShot,
  recordingLog,
  route,
  startProxy,
} from './proxy-harness.js';

afterEach(cleanup);

/**
 * A backend that stops answering connects: a child process that listens with a short accept
 * queue, then blocks its event loop when told, so the kernel drops the SYNs it cannot queue.
 */
const STALLING = `
const srv = require('node:net').createServer();
srv.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => process.stdout.write(srv.address().port + '\\n'));
process.stdin.once('data', () => {
  process.stdout.write('stalled\\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});`;

class StallingBackend {
  private readonly fillers: Socket[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly address: string,
  ) {}

  static async start(): Promise<StallingBackend> {
    const child = spawn(process.execPath, ['-e', STALLING], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      return new StallingBackend(child, `127.0.0.1:${await StallingBackend.line(child)}`);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }

  private static line(child: ChildProcess): Promise<string> {
    return new Promise((resolve, reject) => {
      child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
      child.once('exit', (code) => reject(new Error(`stalling backend exited (${code})`)));
    });
  }

  /** From now on a connect to it hangs: its queue is full and nobody accepts. */
  async stall(): Promise<void> {
    const stalled = StallingBackend.line(this.child);
    this.child.stdin!.write('stall\n');
    await stalled;
    // Health checks may take some of the slots first; the first filler that hangs proves it full.
    for (let i = 0; i < 4 && (await this.fill()); i++);
  }

  /** True when one more connection got a queue slot. */
  private fill(): Promise<boolean> {
    const [host, port] = this.address.split(':');
    const filler = connect({ host, port: Number(port) });
    filler.on('error', () => undefined);
    this.fillers.push(filler);
    return new Promise((res) => {
      const hung = setTimeout(() => res(false), 200);
      filler.once('connect', () => {
        clearTimeout(hung);
        res(true);
      });
    });
  }

  stop(): void {
    for (const s of this.fillers) s.destroy();
    this.child.kill('SIGKILL');
  }
}

describe('proxy health', () => {
  it('redispatches connects to a killed backend, marks it unhealthy, and takes it back once it passes again', async () => {
    const a = await Backend.start('a');
    const b = await Backend.start('b');
    const port = await freePort();
    const log = recordingLog();
    const proxy = startProxy(log);
    const check = {
      kind: HealthCheckKind.HEALTH_CHECK_KIND_TCP,
      intervalMs: 150,
      timeoutMs: 300,
      unhealthyAfter: 3,
      healthyAfter: 2,
      path: '/',
    };
    await proxy.place([route('web', port, [endpoint(a.address), endpoint(b.address)], { healthCheck: check })]);
    await healthOf(proxy, 'web', a.address, BackendHealth.BACKEND_HEALTH_HEALTHY);
    await healthOf(proxy, 'web', b.address, BackendHealth.BACKEND_HEALTH_HEALTHY);

    await a.stop();
    // Half of these pick A before its checks notice: each must still be served, by B.
    const served = [];
    for (let i = 0; i < 6; i++) served.push(await oneShot(port));
    expect(served).toEqual(['b', 'b', 'b', 'b', 'b', 'b']);
    const hurt = endpointStats(proxy, 'web', a.address);
    expect(hurt.connectErrors).toBeGreaterThanOrEqual(1);
    expect(hurt.total).toBe(0);
    expect(hurt.health).toBe(BackendHealth.BACKEND_HEALTH_DEGRADED);

    const down = await healthOf(proxy, 'web', a.address, BackendHealth.BACKEND_HEALTH_UNHEALTHY);
    expect(down.healthDetail).toBe('connect refused 3× in a row');
    expect(down.checksPassing).toBe(false);
    expect(log.lines).toContain(`info backend ${a.address} of web is unhealthy: connect refused 3× in a row`);
    for (let i = 0; i < 4; i++) expect(await oneShot(port)).toBe('b');
    expect(endpointStats(proxy, 'web', a.address).connectErrors).toBe(hurt.connectErrors);
    expect(endpointStats(proxy, 'web', a.address).total).toBe(0);

    await a.listen();
    const up = await healthOf(proxy, 'web', a.address, BackendHealth.BACKEND_HEALTH_HEALTHY);
    expect(up).toMatchObject({ healthDetail: 'checks pass', checksPassing: true });
    const names = new Set<string>();
    for (let i = 0; i < 4; i++) names.add(await oneShot(port));
    expect(names).toEqual(new Set(['a', 'b']));
  });

  it('a dial that hangs gives up after the check timeout and goes to another endpoint', async () => {
    const a = await StallingBackend.start();
    try {
      const b = await Backend.start('b');
      const port = await freePort();
      const proxy = startProxy();
      // Slow checks that take long to call A unhealthy: the dial's own deadline must catch it.
      const check = {
        kind: HealthCheckKind.HEALTH_CHECK_KIND_TCP,
        intervalMs: 1000,
        timeoutMs: 300,
        unhealthyAfter: 10,
        healthyAfter: 1,
        path: '/',
      };
      await proxy.place([
        route('web', port, [endpoint(a.address, { weight: 100 }), endpoint(b.address, { weight: 1 })], {
          healthCheck: check,
        }),
      ]);
      await healthOf(proxy, 'web', a.address, BackendHealth.BACKEND_HEALTH_HEALTHY);
      await healthOf(proxy, 'web', b.address, BackendHealth.BACKEND_HEALTH_HEALTHY);

      await a.stall();
      // A, by far the heavier, takes the first pick; its dial times out and B serves the client.
      expect(await oneShot(port)).toBe('b');
      expect(endpointStats(proxy, 'web', a.address)).toMatchObject({ connectErrors: 1, total: 0, active: 0 });
      expect(endpointStats(proxy, 'web', b.address)).toMatchObject({ total: 1 });
    } finally {
      a.stop();
    }
  });

  it('an HTTP check passes on 200 and fails on 500, with the endpoint address as Host', async () => {
    let status = 200;
    const hosts: string[] = [];
    const http: Server = createServer((req, res) => {
      hosts.push(`${req.headers.host} ${req.url}`);
      res.writeHead(status).end();
    });
    await new Promise<void>((res) => http.listen(0, '127.0.0.1', () => res()));
    try {
      const address = `127.0.0.1:${(http.address() as { port: number }).port}`;
      const proxy = startProxy();
      const check = {
        kind: HealthCheckKind.HEALTH_CHECK_KIND_HTTP,
        intervalMs: 100,
        timeoutMs: 300,
        unhealthyAfter: 2,
        healthyAfter: 2,
        path: '/healthz',
      };
      await proxy.place([route('web', await freePort(), [endpoint(address)], { healthCheck: check })]);
      await healthOf(proxy, 'web', address, BackendHealth.BACKEND_HEALTH_HEALTHY);
      expect(hosts[0]).toBe(`${address} /healthz`);

      status = 500;
      const failing = await healthOf(proxy, 'web', address, BackendHealth.BACKEND_HEALTH_DEGRADED);
      expect(failing.healthDetail).toBe('HTTP 500 from GET /healthz 1× in a row');
      const down = await healthOf(proxy, 'web', address, BackendHealth.BACKEND_HEALTH_UNHEALTHY);
      expect(down.healthDetail).toBe('HTTP 500 from GET /healthz 2× in a row');

      status = 302;
      await healthOf(proxy, 'web', address, BackendHealth.BACKEND_HEALTH_HEALTHY);
    } finally {
      http.closeAllConnections();
      await new Promise((res) => http.close(res));
    }
  });

  it('an endpoint with no address is unhealthy for the reason the controller gave, and clients are refused at once', async () => {
    const port = await freePort();
    const proxy = startProxy();
    await proxy.place([
      route('web', port, [endpoint('', { key: 'api@-', backend: 'api', detail: 'workload api is not running' })]),
    ]);
    expect(endpointStats(proxy, 'web', 'api@-')).toMatchObject({
      health: BackendHealth.BACKEND_HEALTH_UNHEALTHY,
      healthDetail: 'no address: workload api is not running',
      checksPassing: false,
    });
    await expect(oneShot(port)).rejects.toThrow(/closed before/);
    expect(proxy.stats()[0]).toMatchObject({ refused: 1, total: 1, heldTotal: 0 });
  });
});
