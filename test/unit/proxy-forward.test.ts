import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Backend,
  Client,
  cleanup,
  endpoint,
  endpointStats,
  eventually,
  freePort,
  route,
  routeStats,
  sleep,
  startProxy,
} from './proxy-harness.js';

afterEach(cleanup);

/** Reads the whole request (until the client half-closes), then answers and closes. */
function answerAfterEnd(sock: Socket): void {
  let request = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => (request += d));
  sock.on('end', () => sock.end(`answer to ${request}`));
}

describe('proxy forwarding', () => {
  it('a client that writes then half-closes still gets the answer', async () => {
    const a = await Backend.start('a', { handle: answerAfterEnd });
    const port = await freePort();
    const proxy = startProxy();
    await proxy.place([route('web', port, [endpoint(a.address)])]);
    const c = new Client(port);
    c.sock.end('question');
    await c.closed();
    expect(c.received).toBe('answer to question');
    expect(c.gotEnd).toBe(true);
  });

  it('a large answer after a half-close arrives whole', async () => {
    const big = 'x'.repeat(4 * 1024 * 1024);
    const a = await Backend.start('a', { handle: (sock) => sock.on('end', () => sock.end(big)).resume() });
    const port = await freePort();
    const proxy = startProxy();
    await proxy.place([route('web', port, [endpoint(a.address)])]);
    const sock = connect({ host: '127.0.0.1', port });
    let got = 0;
    sock.on('data', (d: Buffer) => (got += d.length));
    const closed = new Promise((res) => sock.once('close', res));
    sock.end('go');
    await closed;
    expect(got).toBe(big.length);
    await eventually('the connection counted as closed', () => routeStats(proxy, 'web').active === 0);
    expect(endpointStats(proxy, 'web', a.address)).toMatchObject({ bytesIn: 2, bytesOut: big.length });
  });

  // More than the kernel buffers on both hops hold, so a proxy that kept reading would show it.
  const FLOOD = 64 * 1024 * 1024;

  it('a client that sends faster than the backend reads is held back, and every byte arrives', async () => {
    // Health checks connect too: the proxied connection is the one that sends.
    let stalled: { sock: Socket; first: Buffer } | undefined;
    const a = await Backend.start('a', {
      handle: (sock) => sock.once('data', (first: Buffer) => (stalled = { sock: sock.pause(), first })),
    });
    const port = await freePort();
    const proxy = startProxy();
    await proxy.place([route('web', port, [endpoint(a.address)])]);
    const sock = connect({ host: '127.0.0.1', port });
    let got = 0;
    sock.on('data', (d: Buffer) => (got += d.length));
    const closed = new Promise((res) => sock.once('close', res));
    sock.end(Buffer.alloc(FLOOD, 0x61));
    const backend = await eventually('the backend has the connection', () => stalled);
    await sleep(200);
    // The proxy stopped reading the client once its writes to the stalled backend backed up.
    expect(sock.writableLength).toBeGreaterThan(0);
    backend.sock.write(backend.first);
    backend.sock.pipe(backend.sock);
    await closed;
    expect(got).toBe(FLOOD);
    await eventually('the connection counted as closed', () => routeStats(proxy, 'web').active === 0);
    expect(endpointStats(proxy, 'web', a.address)).toMatchObject({ bytesIn: FLOOD, bytesOut: FLOOD });
  });

  it('a backend that answers faster than the client reads is held back, and every byte arrives', async () => {
    let sender: Socket | undefined;
    const flood = (sock: Socket) => {
      sender = sock;
      sock.end(Buffer.alloc(FLOOD, 0x62));
    };
    const a = await Backend.start('a', { handle: (sock) => sock.once('data', () => flood(sock)) });
    const port = await freePort();
    const proxy = startProxy();
    await proxy.place([route('web', port, [endpoint(a.address)])]);
    const sock = connect({ host: '127.0.0.1', port });
    sock.pause();
    sock.write('go');
    const backend = await eventually('the backend has the connection', () => sender);
    await sleep(200);
    expect(backend.writableLength).toBeGreaterThan(0);
    let got = 0;
    sock.on('data', (d: Buffer) => (got += d.length)).resume();
    const closed = new Promise((res) => sock.once('close', res));
    sock.end();
    await closed;
    expect(got).toBe(FLOOD);
    await eventually('the connection counted as closed', () => routeStats(proxy, 'web').active === 0);
    expect(endpointStats(proxy, 'web', a.address)).toMatchObject({ bytesIn: 2, bytesOut: FLOOD });
  });

  it('counts connections and bytes each way, open and closed', async () => {
    const a = await Backend.start('a');
    const port = await freePort();
    const proxy = startProxy();
    await proxy.place([route('web', port, [endpoint(a.address)], { revision: 7 })]);
    const payload = 'p'.repeat(1000);
    const c = new Client(port);
    await c.greeting();
    c.sock.write(payload);
    await c.receive(payload);
    // Open: counted from the live sockets.
    expect(endpointStats(proxy, 'web', a.address)).toMatchObject({
      active: 1,
      total: 1,
      bytesIn: 1000,
      bytesOut: 2 + 1000,
    });
    expect(routeStats(proxy, 'web')).toMatchObject({
      name: 'web',
      revision: 7,
      listening: true,
      error: '',
      active: 1,
      total: 1,
      refused: 0,
    });

    c.sock.end('bye');
    await c.closed();
    await eventually('the connection counted as closed', () => routeStats(proxy, 'web').active === 0);
    expect(endpointStats(proxy, 'web', a.address)).toMatchObject({
      active: 0,
      total: 1,
      bytesIn: 1003,
      bytesOut: 1005,
      connectErrors: 0,
    });
    expect(c.received).toBe(`a\n${payload}bye`);

    const second = new Client(port);
    await second.greeting();
    second.sock.end();
    await second.closed();
    await eventually(
      'both connections counted',
      () => endpointStats(proxy, 'web', a.address).total === 2 && routeStats(proxy, 'web').active === 0,
    );
    expect(endpointStats(proxy, 'web', a.address)).toMatchObject({ bytesIn: 1003, bytesOut: 1007 });
  });

  it('a backend that closes first closes the client, and the reverse', async () => {
    const a = await Backend.start('a', { handle: (sock) => sock.end('bye\n') });
    const port = await freePort();
    const proxy = startProxy();
    await proxy.place([route('web', port, [endpoint(a.address)])]);
    const c = new Client(port);
    await c.closed();
    expect(c.received).toBe('bye\n');

    const echo = await Backend.start('echo');
    await proxy.place([route('web', port, [endpoint(echo.address)], { revision: 2 })]);
    await eventually(
      'the echo backend takes connections',
      () => endpointStats(proxy, 'web', echo.address).checksPassing,
    );
    const d = new Client(port);
    await d.greeting();
    d.sock.destroy();
    await eventually('the backend side closed', () => echo.sockets.size === 0 && routeStats(proxy, 'web').active === 0);
  });
});
