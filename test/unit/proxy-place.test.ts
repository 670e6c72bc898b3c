import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand, type CommandContext } from '../../src/agent/commands.js';
import { YardError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import {
  Backend,
  Client,
  cleanup,
  endpoint,
  freePort,
  oneShot,
  recordingLog,
  route,
  routeStats,
  startProxy,
} from './proxy-harness.js';

afterEach(cleanup);

async function holdPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  return { server, port: (server.address() as { port: number }).port };
}

async function canBind(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((res) => {
    server.once('error', () => res(false));
    server.listen(port, '127.0.0.1', () => server.close(() => res(true)));
  });
}

describe('Proxy.place', () => {
  it('is all or nothing: a port in use fails the change, names the route and port, and the old routes keep working', async () => {
    const a = await Backend.start('a');
    const webPort = await freePort();
    const proxy = startProxy();
    await proxy.place([route('web', webPort, [endpoint(a.address)])]);
    const open = new Client(webPort);
    expect(await open.greeting()).toBe('a');

    const taken = await holdPort();
    try {
      const extraPort = await freePort();
      const next = [
        route('web', webPort, [endpoint(a.address, { weight: 50 })], { revision: 2 }),
        route('extra', extraPort, [endpoint(a.address)]),
        route('api', taken.port, [endpoint(a.address)]),
      ];
      const err = await proxy.place(next).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(YardError);
      expect((err as YardError).code).toBe('PORT_IN_USE');
      expect((err as YardError).message).toBe(
        `cannot listen on 127.0.0.1:${taken.port} for route api: the port is in use on this host; pick another listen port`,
      );
      expect((err as YardError).details).toEqual({ route: 'api', port: String(taken.port) });

      // Nothing changed: the listener opened for "extra" is closed again, web is as it was.
      expect(await canBind(extraPort)).toBe(true);
      expect(proxy.stats().map((r) => [r.name, r.revision, r.listening])).toEqual([['web', 1, true]]);
      open.sock.write('survived');
      await open.receive('survived');
      expect(await oneShot(webPort)).toBe('a');
    } finally {
      taken.server.close();
    }
  });

  it("a route renamed on the same port keeps the listener, and the old name's connections drain", async () => {
    const a = await Backend.start('a');
    const b = await Backend.start('b');
    const port = await freePort();
    const proxy = startProxy();
    await proxy.place([route('web', port, [endpoint(a.address)])]);
    const open = new Client(port);
    await open.greeting();
    await proxy.place([route('www', port, [endpoint(b.address)])]);
    expect(proxy.stats().map((r) => [r.name, r.listening])).toEqual([['www', true]]);
    expect(await oneShot(port)).toBe('b');
    open.sock.write('still');
    await open.receive('still');
  });

  it('refuses a table it cannot apply with INVALID_ARGUMENT, changing nothing', async () => {
    const a = await Backend.start('a');
    const port = await freePort();
    const proxy = startProxy();
    await proxy.place([route('web', port, [endpoint(a.address)])]);
    const bad = [
      [route('web', port, [endpoint(a.address, { weight: 101 })])],
      [route('web', port, [endpoint('nowhere')])],
      [route('web', port, [endpoint('127.0.0.1:0')])],
      [route('web', 0, [endpoint(a.address)])],
      [route('web', port, [endpoint(a.address)]), route('web', port + 1, [endpoint(a.address)])],
      [route('web', port, [endpoint(a.address)]), route('api', port, [endpoint(a.address)])],
      [route('web', port, [endpoint(a.address), endpoint(a.address)])],
      [
        route(
          'web',
          port,
          Array.from({ length: 129 }, (_, i) => endpoint(`127.0.0.1:${i + 1}`)),
        ),
      ],
      Array.from({ length: 257 }, (_, i) => route(`r${i}`, 20000 + i, [])),
    ];
    for (const routes of bad) {
      await expect(proxy.place(routes)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    await expect(proxy.place(bad[0]!)).rejects.toThrow(/route web: endpoint 127\.0\.0\.1:\d+: weight 101 is not 0-100/);
    expect(await oneShot(port)).toBe('a');
    expect(routeStats(proxy, 'web').revision).toBe(1);
  });

  it('logs a change once, and a re-placement of the same table not at all', async () => {
    const a = await Backend.start('a');
    const port = await freePort();
    const log = recordingLog();
    const proxy = startProxy(log);
    const table = [route('web', port, [endpoint(a.address, { weight: 75 })])];
    await proxy.place(table);
    await proxy.place(structuredClone(table));
    expect(log.lines.filter((l) => l.includes('routes placed'))).toEqual([
      `info routes placed: web on 127.0.0.1:${port} → ${a.address} w75`,
    ]);
  });

  it('serves no routes after close(), and place() then refuses', async () => {
    const a = await Backend.start('a');
    const port = await freePort();
    const proxy = startProxy();
    await proxy.place([route('web', port, [endpoint(a.address)])]);
    const open = new Client(port);
    await open.greeting();
    await proxy.close();
    await open.closed();
    expect(await canBind(port)).toBe(true);
    await expect(proxy.place([])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('an agent started without --proxy answers PlaceRoutes with FAILED_PRECONDITION', async () => {
    const ctx = { log: silentLogger } as unknown as CommandContext;
    const res = await runCommand({ id: 'c1', action: { $case: 'routes', value: { routes: [] } } }, ctx);
    expect(res.error).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(res.error!.message).toMatch(/^this agent was not started with --proxy/);
  });
});
