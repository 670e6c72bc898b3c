// The near end of the net step's plain copy: run inside a host's namespace, it sends `bytes`
// (1 MiB buffers from memory, so only the network counts) to a tcp-sink, and prints the time from
// connect to the sink's one-byte answer, which comes once the sink has every byte.
//   node dist/bench/tcp-source.js <host> <port> <bytes>   prints "copied <bytes> in <ms> ms"
import { connect } from 'node:net';

const [host, portArg, bytesArg] = process.argv.slice(2);
const port = Number(portArg);
const bytes = Number(bytesArg);
if (!host || !Number.isInteger(port) || port <= 0 || !Number.isSafeInteger(bytes) || bytes <= 0) {
  process.stderr.write('usage: node dist/bench/tcp-source.js <host> <port> <bytes>\n');
  process.exit(2);
}

const MiB = 1024 * 1024;
const chunk = Buffer.alloc(MiB);
for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 2654435761) >>> 24;

// Bounded: a copy that has not finished in 10 minutes has failed (1 GB at 100 Mbit/s takes 90 s).
const limit = setTimeout(() => fail('no answer from the sink within 600 s'), 600_000);

function fail(why: string): never {
  process.stderr.write(`tcp-source: ${why}\n`);
  process.exit(1);
}

const t0 = performance.now();
const sock = connect({ host, port });
let left = bytes;
let answered = false;
function pump(): void {
  while (left > 0) {
    const n = Math.min(left, chunk.length);
    left -= n;
    if (!sock.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
      sock.once('drain', pump);
      return;
    }
  }
}
sock.once('connect', pump);
sock.once('data', () => {
  answered = true;
  clearTimeout(limit);
  process.stdout.write(`copied ${bytes} in ${(performance.now() - t0).toFixed(1)} ms\n`);
  sock.destroy();
});
sock.on('error', (err) => fail(`${host}:${port}: ${err.message}`));
sock.once('close', () => {
  if (!answered) fail('the sink closed before it had every byte');
});
