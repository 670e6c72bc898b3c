// The far end of the migration benchmark's baseline: a plain TCP server on 127.0.0.1 (or `host`:
// the net step's hosts listen on their namespace's address) that reads `bytes` from each
// connection, answers one byte once it has them all, and closes it. It runs as its own process
// (like the controller does), so the copy pays for two processes, not one.
//   node dist/bench/tcp-sink.js <bytes> [host]   prints "listening <port>", then "received <n>" per copy
import { createServer } from 'node:net';

const want = Number(process.argv[2]);
const host = process.argv[3] ?? '127.0.0.1';
if (!Number.isSafeInteger(want) || want <= 0) {
  process.stderr.write(`tcp-sink: expected a byte count, got "${process.argv[2] ?? ''}"\n`);
  process.exit(2);
}

const server = createServer((sock) => {
  let got = 0;
  sock.on('data', (d: Buffer) => {
    got += d.length;
    if (got >= want) {
      sock.end(Buffer.from('k'));
      process.stdout.write(`received ${got}\n`);
    }
  });
  sock.on('error', () => sock.destroy());
});
server.listen(0, host, () => process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`));
// Never outlives the bench by long, even if nobody kills it.
setTimeout(() => process.exit(0), 10 * 60_000).unref();
