// Direct transfers between two agents (issue 13 groundwork): real TLS 1.3 on loopback, both ends
// with agent certificates the controller's CA issued, a ticket for one checkpoint to one target.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchFromPeer, PeerTransferServer, type PeerTls } from '../../src/agent/peer-transfer.js';
import { TicketBook } from '../../src/controller/migration/tickets.js';
import { silentLogger } from '../../src/core/log.js';
import { tempDir } from '../helpers/procs.js';
import { agentCredential, newCa } from './pki-fixture.js';

async function drain(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('direct checkpoint transfer between agents', () => {
  const dir = tempDir('yard-peer-');
  const file = join(dir, 'ckpt.tar');
  const data = randomBytes(8 * 1024 * 1024 + 17);
  const sha256 = createHash('sha256').update(data).digest('hex');
  let source: PeerTls;
  let target: PeerTls;
  let stranger: PeerTls;
  let foreign: PeerTls;
  let server: PeerTransferServer;
  let address: string;
  const book = new TicketBook();

  beforeAll(async () => {
    writeFileSync(file, data);
    const { ca } = await newCa();
    const pems = async (id: string) => ({ caPem: ca.certPem, ...(await agentCredential(ca, id)) });
    source = await pems('srv-src');
    target = await pems('srv-dst');
    stranger = await pems('srv-other');
    const other = (await newCa()).ca;
    foreign = { caPem: ca.certPem, ...(await agentCredential(other, 'srv-dst')) };
    server = new PeerTransferServer({ tls: () => source, serverId: 'srv-src', log: silentLogger });
    address = await server.listen('127.0.0.1:0');
  });
  afterAll(() => server?.close());

  const offer = (checkpointId: string) => {
    const { secret, ticket } = book.issue({ checkpointId, sourceServerId: 'srv-src', targetServerId: 'srv-dst' });
    server.offer({ ticket, size: data.length, sha256, open: (offset) => createReadStream(file, { start: offset }) });
    return { secret, ticket };
  };
  const fetch = (tls: PeerTls, secret: string, checkpointId: string, offset = 0, sourceServerId = 'srv-src') =>
    fetchFromPeer({ address, sourceServerId, tls, secret, checkpointId, offset });

  it('streams the checkpoint to the target its ticket names, whole and checksummed', async () => {
    const { secret } = offer('ck-1');
    const got = await fetch(target, secret, 'ck-1');
    expect(got).toMatchObject({ size: data.length, sha256 });
    const bytes = await drain(got.body);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(sha256);
  });

  it('resumes from an offset with the same ticket, while it lives', async () => {
    const { secret } = offer('ck-2');
    const head = await fetch(target, secret, 'ck-2');
    const first: Buffer[] = [];
    let got = 0;
    for await (const c of head.body) {
      first.push(c as Buffer);
      got += (c as Buffer).length;
      if (got > 1024 * 1024) break; // the connection drops here
    }
    const start = Buffer.concat(first);
    const rest = await drain((await fetch(target, secret, 'ck-2', start.length)).body);
    expect(
      createHash('sha256')
        .update(Buffer.concat([start, rest]))
        .digest('hex'),
    ).toBe(sha256);
  });

  it('refuses a wrong, foreign-bound or withdrawn ticket, and says why', async () => {
    const { secret, ticket } = offer('ck-3');
    await expect(fetch(target, 'not-a-ticket', 'ck-3')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(fetch(target, secret, 'ck-other')).rejects.toThrow(/ticket is for checkpoint ck-3 to server srv-dst/);
    // Another agent of the same fleet, with a valid certificate, holding a stolen ticket.
    await expect(fetch(stranger, secret, 'ck-3')).rejects.toThrow(/not ck-3 to srv-other/);
    server.withdraw(ticket.digest);
    await expect(fetch(target, secret, 'ck-3')).rejects.toThrow(/never issued, or withdrawn/);
  });

  it('refuses a client whose certificate another CA issued, at the handshake', async () => {
    const { secret } = offer('ck-4');
    await expect(fetch(foreign, secret, 'ck-4')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('the target refuses a source that is not the server it was sent to', async () => {
    const { secret } = offer('ck-5');
    await expect(fetch(target, secret, 'ck-5', 0, 'srv-elsewhere')).rejects.toThrow(
      /the agent at 127\.0\.0\.1:\d+ is server srv-src, not srv-elsewhere/,
    );
  });

  it('an expired ticket admits no one', async () => {
    const now = { ms: Date.now() };
    const clocked = new PeerTransferServer({
      tls: () => source,
      serverId: 'srv-src',
      log: silentLogger,
      now: () => now.ms,
    });
    const at = await clocked.listen('127.0.0.1:0');
    const { secret, ticket } = new TicketBook(() => now.ms).issue(
      { checkpointId: 'ck-6', sourceServerId: 'srv-src', targetServerId: 'srv-dst' },
      1000,
    );
    clocked.offer({ ticket, size: data.length, sha256, open: (offset) => createReadStream(file, { start: offset }) });
    now.ms += 2000;
    await expect(
      fetchFromPeer({ address: at, sourceServerId: 'srv-src', tls: target, secret, checkpointId: 'ck-6', offset: 0 }),
    ).rejects.toThrow(/expired/);
    await clocked.close();
  });
});
