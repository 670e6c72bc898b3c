// The net step's TLS-cost driver: one checkpoint archive moved from host a to host b by the
// direct transfer's own code, with and without TLS, so the two rates differ only by the
// encryption. The source serves the archive file with readKept (as an agent serves its outbox
// file); the target feeds the connection into a ResumableReceiver (unpack as it arrives, every
// entry checked, sha256 checked at the end), as an agent's pull does.
//   tls:   PeerTransferServer → fetchFromPeer, mTLS with agent certificates from one CA
//   plain: the same bytes over a plain TCP socket (a bench-only path: no agent can serve it)
//   node dist/bench/peer-copy.js serve tls|plain CREDS_JSON ARCHIVE HOST   prints "listening <port>"
//   node dist/bench/peer-copy.js fetch tls|plain CREDS_JSON HOST PORT DEST  prints "fetched <bytes> in <ms> ms, cpu <ms> ms"
// CREDS_JSON (written by the bench, owner-only): {source, target: PeerTls, secret, digest, size, sha256}.
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { readKept } from '../src/agent/checkpoint/pack-stream.js';
import { ResumableReceiver } from '../src/agent/checkpoint/resume.js';
import { fetchFromPeer, type PeerTls, PeerTransferServer } from '../src/agent/peer-transfer.js';
import { silentLogger } from '../src/core/log.js';
import { TICKET_TTL_MS } from '../src/core/transfer-ticket.js';

export interface PeerCopySetup {
  source: PeerTls;
  target: PeerTls;
  secret: string;
  digest: string;
  size: number;
  sha256: string;
}

const CHECKPOINT = 'bench-peer-copy';
const SOURCE_ID = 'bench-a';
const TARGET_ID = 'bench-b';

const [role, mode, credsFile, ...rest] = process.argv.slice(2);
if ((role !== 'serve' && role !== 'fetch') || (mode !== 'tls' && mode !== 'plain') || !credsFile) {
  process.stderr.write('usage: peer-copy.js serve|fetch tls|plain CREDS_JSON …\n');
  process.exit(2);
}
const setup = JSON.parse(readFileSync(credsFile, 'utf8')) as PeerCopySetup;
// Never outlives the bench by long, even if nobody kills it.
setTimeout(() => process.exit(1), 10 * 60_000).unref();

if (role === 'serve') await serve(rest[0]!, rest[1]!);
else await fetch(rest[0]!, Number(rest[1]), rest[2]!);

async function serve(archive: string, host: string): Promise<void> {
  if (mode === 'tls') {
    const server = new PeerTransferServer({ tls: () => setup.source, serverId: SOURCE_ID, log: silentLogger });
    const address = await server.listen(`${host}:0`);
    // The ticket lives as long as the bench needs it (each transfer slides it on).
    server.offer({
      ticket: {
        digest: setup.digest,
        checkpointId: CHECKPOINT,
        sourceServerId: SOURCE_ID,
        targetServerId: TARGET_ID,
        expiresMs: Date.now() + 10 * TICKET_TTL_MS,
      },
      size: setup.size,
      sha256: setup.sha256,
      open: (offset) => readKept(archive, offset),
    });
    process.stdout.write(`listening ${address.split(':').pop()}\n`);
    return;
  }
  const server = createServer((sock) => {
    sock.on('error', () => sock.destroy());
    const body = readKept(archive, 0);
    body.on('error', () => sock.destroy());
    body.pipe(sock);
  });
  server.listen(0, host, () => process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`));
}

async function fetch(host: string, port: number, dest: string): Promise<void> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const rx = new ResumableReceiver(dest, { maxBytes: setup.size * 2, sender: 'bench-a' });
  rx.complete({ size: setup.size, sha256: setup.sha256 });
  const body =
    mode === 'tls'
      ? (
          await fetchFromPeer({
            address: `${host}:${port}`,
            sourceServerId: SOURCE_ID,
            tls: setup.target,
            secret: setup.secret,
            checkpointId: CHECKPOINT,
            offset: 0,
          })
        ).body
      : connect({ host, port });
  await rx.attach(body);
  await rx.done;
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  process.stdout.write(
    `fetched ${rx.received} in ${ms.toFixed(1)} ms, cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms\n`,
  );
  process.exit(0);
}
