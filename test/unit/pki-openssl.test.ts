// OpenSSL, not only our own library, reads the certificates: the CA's constraints, the server's
// names, an agent's yard:// URI and an operator's role, and the same fingerprint as ours.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateAuthority } from '../../src/controller/pki/certificate-authority.js';
import { issueOperatorCertificate } from '../../src/controller/pki/client-certificates.js';
import { issueServerCertificate } from '../../src/controller/pki/server-certificate.js';
import { serverNames } from '../../src/controller/pki/server-names.js';
import { newKeyPair } from '../../src/core/pki/x509.js';
import { agentCredential, newCa } from './pki-fixture.js';

function onPath(tool: string): boolean {
  try {
    execFileSync(tool, ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let ca: CertificateAuthority;
let dataDir: string;

/** What `openssl x509` prints of a certificate, given as PEM through a file. */
function openssl(certPem: string, ...args: string[]): string {
  const file = join(dataDir, 'inspect.crt');
  writeFileSync(file, certPem);
  return execFileSync('openssl', ['x509', '-in', file, '-noout', ...args], { encoding: 'utf8' });
}

describe.skipIf(!onPath('openssl'))('openssl reads the certificates (skipped: no openssl on PATH)', () => {
  beforeAll(async () => {
    ({ ca, dataDir } = await newCa());
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the CA is a CA, signs certificates, and has the fingerprint the join token pins', () => {
    const text = openssl(ca.certPem, '-text');
    expect(text).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:0/);
    expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign/);
    expect(text).toContain('ASN1 OID: prime256v1');
    const fingerprint = openssl(ca.certPem, '-fingerprint', '-sha256').trim();
    expect(`sha256:${fingerprint.split('=')[1]?.replaceAll(':', '').toLowerCase()}`).toBe(ca.fingerprint);
  });

  it('the server certificate names its addresses and host names, for server authentication', async () => {
    const { certPem } = await issueServerCertificate(
      ca,
      serverNames('192.0.2.10', ['yard.example.net', '::1'], 'ctl-host'),
    );
    const text = openssl(certPem, '-text');
    expect(text).toMatch(
      /X509v3 Subject Alternative Name: \n\s+DNS:ctl-host, DNS:yard.example.net, IP Address:192.0.2.10, IP Address:0:0:0:0:0:0:0:1/,
    );
    expect(text).toMatch(/X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication/);
    expect(text).toMatch(/CA:FALSE/);
  });

  it("an agent's certificate carries its server id; an operator's its name and role", async () => {
    const agent = await agentCredential(ca, 'srv-b7');
    expect(openssl(agent.certPem, '-ext', 'subjectAltName')).toContain('URI:yard://server/srv-b7');
    expect(openssl(agent.certPem, '-ext', 'extendedKeyUsage')).toContain('TLS Web Client Authentication');

    const keys = await newKeyPair();
    const operator = await issueOperatorCertificate(ca, { name: 'alice', role: 'admin' }, keys.publicKey);
    expect(openssl(operator.certPem, '-subject').trim()).toBe('subject=CN = alice, OU = admin');
    expect(openssl(operator.certPem, '-ext', 'subjectAltName')).toContain('URI:yard://operator/alice');
    expect(openssl(operator.certPem, '-serial').trim()).toBe(`serial=${operator.serial.toUpperCase()}`);
  });
});
