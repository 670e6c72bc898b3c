// The controller's CA in a real data dir: made once with an owner-only key, loaded after,
// refused when its key is shared; the server certificate it keeps, and when it renews it.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../src/controller/pki/certificate-authority.js';
import { SERVER_LIFETIME_MS } from '../../src/core/pki/lifetimes.js';
import { ensureServerCertificate } from '../../src/controller/pki/server-certificate.js';
import { serverNames } from '../../src/controller/pki/server-names.js';
import { controllerFiles } from '../../src/core/paths.js';
import { tempDir } from '../helpers/procs.js';
import { agentCredential, newCa } from './pki-fixture.js';

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe('the controller CA', () => {
  it('is made on first start with an owner-only key, and the same CA is loaded after', async () => {
    const { ca, dataDir } = await newCa();
    const files = controllerFiles(dataDir);
    expect(mode(files.caKey)).toBe('600');
    expect(readFileSync(files.caCert, 'utf8')).toBe(ca.certPem);
    const again = await CertificateAuthority.loadOrCreate(files);
    expect(again.fingerprint).toBe(ca.fingerprint);
    // A certificate the reloaded CA issues chains to the CA made first.
    const { certPem } = await agentCredential(again, 'srv-1');
    expect(new X509Certificate(certPem).checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a CA key readable by group or others, and says to chmod 600 it', async () => {
    const { dataDir } = await newCa();
    const files = controllerFiles(dataDir);
    chmodSync(files.caKey, 0o640);
    await expect(CertificateAuthority.loadOrCreate(files)).rejects.toThrow(
      `the CA key ${files.caKey} is open to group or others (mode 0640): whoever reads it can issue certificates for any agent or operator; run \`chmod 600 ${files.caKey}\` and start the controller again`,
    );
    chmodSync(files.caKey, 0o600);
    await expect(CertificateAuthority.loadOrCreate(files)).resolves.toBeInstanceOf(CertificateAuthority);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('does not make a new CA over a half-restored data dir', async () => {
    const { dataDir } = await newCa();
    const files = controllerFiles(dataDir);
    rmSync(files.caKey);
    await expect(CertificateAuthority.loadOrCreate(files)).rejects.toThrow(
      `${files.caKey} is missing but ${files.caCert} is there: restore ${files.caKey} from a backup, or remove ${files.caCert} too to make a new CA (every agent must then join again)`,
    );
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes its fingerprint as sha256:<hex of the DER>, the same digest openssl and Node compute', async () => {
    const { ca, dataDir } = await newCa();
    const colonHex = new X509Certificate(ca.certPem).fingerprint256;
    expect(ca.fingerprint).toBe(`sha256:${colonHex.replaceAll(':', '').toLowerCase()}`);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('gives every certificate a random serial of its own', async () => {
    const { ca, dataDir } = await newCa();
    const serials = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => (await agentCredential(ca, `srv-${i}`)).serial),
    );
    expect(new Set(serials).size).toBe(20);
    for (const serial of serials) expect(serial).toMatch(/^[0-7][0-9a-f]{31}$/);
    rmSync(dataDir, { recursive: true, force: true });
  });
});

describe('the server certificate', () => {
  const names = serverNames('192.0.2.10', ['yard.example.net'], 'ctl-host');

  it('names the listen address, the hostname and the extra names', () => {
    expect(names).toEqual({ ips: ['192.0.2.10'], dns: ['ctl-host', 'yard.example.net'] });
    expect(serverNames('0.0.0.0', [], 'ctl-host').ips).toContain('127.0.0.1');
    expect(() => serverNames('127.0.0.1', ['not a name'])).toThrow(
      '"not a name" cannot name the controller in its certificate: give a host name (controller.example.net) or an IP address',
    );
  });

  it('is kept while it has more than a third of its life, and renewed after', async () => {
    const { ca, dataDir } = await newCa();
    const files = controllerFiles(dataDir);
    const start = Date.now();
    const first = await ensureServerCertificate(ca, files, names, start);
    expect(mode(files.serverKey)).toBe('600');
    expect(readFileSync(files.serverCert, 'utf8')).toBe(first.certPem);

    const twoThirds = (SERVER_LIFETIME_MS * 2) / 3;
    const kept = await ensureServerCertificate(ca, files, names, start + twoThirds - 60 * 60 * 1000);
    expect(kept.certPem).toBe(first.certPem);

    const renewed = await ensureServerCertificate(ca, files, names, start + twoThirds + 60 * 60 * 1000);
    expect(renewed.certPem).not.toBe(first.certPem);
    expect(renewed.notAfter.getTime()).toBeGreaterThan(first.notAfter.getTime());
    expect(mode(files.serverKey)).toBe('600');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is issued anew when the names change', async () => {
    const { ca, dataDir } = await newCa();
    const files = controllerFiles(dataDir);
    const first = await ensureServerCertificate(ca, files, names);
    const moved = await ensureServerCertificate(ca, files, serverNames('192.0.2.11', [], 'ctl-host'));
    expect(moved.certPem).not.toBe(first.certPem);
    expect(new X509Certificate(moved.certPem).subjectAltName).toBe('DNS:ctl-host, IP Address:192.0.2.11');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is issued anew over a key that is not its own or a file that is not a certificate', async () => {
    const { ca, dataDir } = await newCa();
    const files = controllerFiles(dataDir);
    const first = await ensureServerCertificate(ca, files, names);
    // A crash between the two renames leaves the new key beside the old certificate.
    writeFileSync(files.serverKey, (await agentCredential(ca, 'srv-1')).keyPem, { mode: 0o600 });
    const paired = await ensureServerCertificate(ca, files, names);
    expect(paired.certPem).not.toBe(first.certPem);
    expect(new X509Certificate(paired.certPem).checkPrivateKey(createPrivateKey(paired.keyPem))).toBe(true);
    writeFileSync(files.serverCert, 'not a certificate\n');
    const fresh = await ensureServerCertificate(ca, files, names);
    expect(readFileSync(files.serverCert, 'utf8')).toBe(fresh.certPem);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is issued anew when the CA in the data dir is another one', async () => {
    const { ca, dataDir } = await newCa();
    const files = controllerFiles(dataDir);
    const first = await ensureServerCertificate(ca, files, names);
    const { ca: other, dataDir: otherDir } = await newCa(tempDir('yard-pki-other-'));
    const reissued = await ensureServerCertificate(other, files, names);
    expect(reissued.certPem).not.toBe(first.certPem);
    expect(new X509Certificate(reissued.certPem).checkIssued(new X509Certificate(other.certPem))).toBe(true);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(otherDir, { recursive: true, force: true });
  });
});
