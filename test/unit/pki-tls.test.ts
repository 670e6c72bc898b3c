// The issued certificates in real TLS: a node:tls server on 127.0.0.1 with the controller's
// server certificate, real clients that trust the CA (or do not), agents with client
// certificates, and what the checks say of expired, revoked and foreign ones.
import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateAuthority } from '../../src/controller/pki/certificate-authority.js';
import { checkCertificate, normalSerial } from '../../src/controller/pki/certificate-check.js';
import { issueOperatorCertificate } from '../../src/controller/pki/client-certificates.js';
import { peerIdentity } from '../../src/core/pki/identity.js';
import { issueServerCertificate } from '../../src/controller/pki/server-certificate.js';
import { serverNames } from '../../src/controller/pki/server-names.js';
import { newKeyPair } from '../../src/core/pki/x509.js';
import { agentCredential, newCa } from './pki-fixture.js';

const HOUR_MS = 60 * 60 * 1000;
let ca: CertificateAuthority;
let dataDir: string;
let server: Server;
let port: number;
/** What the server read from each peer certificate: who it names, or why TLS did not authorize it. */
const seen: (ReturnType<typeof peerIdentity> | { refused: string })[] = [];

beforeAll(async () => {
  ({ ca, dataDir } = await newCa());
  const { keyPem, certPem } = await issueServerCertificate(ca, serverNames('127.0.0.1'));
  server = createServer(
    { key: keyPem, cert: certPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' },
    (socket) => {
      const peer = socket.getPeerX509Certificate();
      seen.push(socket.authorized && peer ? peerIdentity(peer.raw) : { refused: String(socket.authorizationError) });
      socket.end(socket.getProtocol() ?? '');
    },
  );
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((res) => server.close(res));
  rmSync(dataDir, { recursive: true, force: true });
});

/** Connects, reads what the server says, and resolves with it or with the handshake's error. */
function dial(options: { ca?: string; key?: string; cert?: string }): Promise<{ said: string } | { error: string }> {
  return new Promise((res) => {
    const socket: TLSSocket = connect({ host: '127.0.0.1', port, ...options });
    let said = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      said += chunk;
    });
    socket.on('end', () => res({ said }));
    socket.on('error', (err: NodeJS.ErrnoException) => res({ error: err.code ?? err.message }));
  });
}

describe('TLS with the issued certificates', () => {
  it('a client that trusts only the CA gets TLS 1.3 to the server certificate', async () => {
    expect(await dial({ ca: ca.certPem })).toEqual({ said: 'TLSv1.3' });
  });

  it('a client that does not trust the CA is refused', async () => {
    const { ca: stranger, dataDir: strangerDir } = await newCa();
    // The server sends its chain, CA included (OpenSSL builds it from `ca`): the client sees a
    // root it was not told to trust.
    expect(await dial({ ca: stranger.certPem })).toEqual({ error: 'SELF_SIGNED_CERT_IN_CHAIN' });
    expect(await dial({})).toEqual({ error: 'SELF_SIGNED_CERT_IN_CHAIN' });
    rmSync(strangerDir, { recursive: true, force: true });
  });

  it('an agent with its client certificate is admitted, and the server reads its server id', async () => {
    const agent = await agentCredential(ca, 'srv-b7');
    seen.length = 0;
    expect(await dial({ ca: ca.certPem, key: agent.keyPem, cert: agent.certPem })).toEqual({ said: 'TLSv1.3' });
    expect(seen).toEqual([{ kind: 'agent', serverId: 'srv-b7' }]);
  });

  it('an expired agent certificate is not authorized by TLS and is named expired by the check', async () => {
    const old = await agentCredential(ca, 'srv-old', { nowMs: Date.now() - 48 * HOUR_MS, lifetimeMs: HOUR_MS });
    seen.length = 0;
    await dial({ ca: ca.certPem, key: old.keyPem, cert: old.certPem });
    expect(seen).toEqual([{ refused: 'CERT_HAS_EXPIRED' }]);
    const check = checkCertificate(old.certPem, ca, revocationList());
    expect(check).toMatchObject({ ok: false, problem: 'expired' });
    expect(check.ok || check.message).toMatch(
      /^the certificate of agent srv-old \(serial [0-9a-f]{32}\) expired at .*: join the agent again with the join token `yard token` prints on the controller host$/,
    );
  });

  it('a revoked certificate is named revoked, by its serial, while others of the CA stay good', async () => {
    const revoked = await agentCredential(ca, 'srv-gone');
    const kept = await agentCredential(ca, 'srv-kept');
    const revocations = revocationList();
    revocations.revoke(revoked.serial.toUpperCase());
    expect(checkCertificate(revoked.certPem, ca, revocations)).toMatchObject({ ok: false, problem: 'revoked' });
    expect(checkCertificate(kept.certPem, ca, revocations)).toMatchObject({
      ok: true,
      identity: { kind: 'agent', serverId: 'srv-kept' },
      serial: kept.serial,
    });
  });

  it('a certificate from another CA is untrusted by the check', async () => {
    const { ca: stranger, dataDir: strangerDir } = await newCa();
    const foreign = await agentCredential(stranger, 'srv-b7');
    expect(checkCertificate(foreign.certPem, ca, revocationList())).toMatchObject({
      ok: false,
      problem: 'untrusted',
    });
    rmSync(strangerDir, { recursive: true, force: true });
  });

  it("an operator's credential carries the name and the role", async () => {
    const keys = await newKeyPair();
    const issued = await issueOperatorCertificate(ca, { name: 'noc, wall 2', role: 'viewer' }, keys.publicKey);
    expect(checkCertificate(issued.certPem, ca, revocationList())).toMatchObject({
      ok: true,
      identity: { kind: 'operator', name: 'noc, wall 2', role: 'viewer' },
      serial: issued.serial,
    });
  });
});

/** What the store offers a check: revoked serials. */
function revocationList() {
  const serials = new Set<string>();
  return {
    revoke: (serial: string) => void serials.add(normalSerial(serial)),
    isRevoked: (serial: string) => serials.has(normalSerial(serial)),
  };
}
