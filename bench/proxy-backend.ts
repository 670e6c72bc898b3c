// The backend behind every path of the proxy benchmark, in its own process: a sink for the
// throughput streams and an echo for the round trips (the connection's first byte says which,
// see proxy-wire.ts). A connection that sends nothing (a health check) is closed when its peer
// closes.
//   node dist/bench/proxy-backend.js      prints "listening <port>" on 127.0.0.1
import { createServer, type Socket } from 'node:net';
import { ECHO, REPORT_BYTES, REPORT_MS, SINK } from './proxy-wire.js';

function sink(sock: Socket, first: Buffer): void {
  let got = first.length;
  sock.on('data', (d: Buffer) => (got += d.length));
  const timer = setInterval(() => {
    const report = Buffer.alloc(REPORT_BYTES);
    report.writeBigUInt64BE(BigInt(got), 0);
    report.writeBigUInt64BE(process.hrtime.bigint(), 8);
    sock.write(report);
  }, REPORT_MS);
  sock.once('close', () => clearInterval(timer));
}

function echo(sock: Socket, first: Buffer): void {
  const back = (d: Buffer) => {
    if (sock.write(d)) return;
    sock.pause();
    sock.once('drain', () => sock.resume());
  };
  if (first.length) back(first);
  sock.on('data', back);
}

const server = createServer((sock) => {
  sock.setNoDelay(true);
  sock.on('error', () => sock.destroy());
  sock.once('data', (d: Buffer) => {
    const rest = d.subarray(1);
    if (d[0] === SINK) sink(sock, rest);
    else if (d[0] === ECHO) echo(sock, rest);
    else sock.destroy();
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`));
// Never outlives the bench by long, even if nobody kills it.
setTimeout(() => process.exit(0), 10 * 60_000).unref();
