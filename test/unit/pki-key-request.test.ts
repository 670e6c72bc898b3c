// An agent makes its own key and sends only a certificate request: the CA certifies the key in
// it for the server id it decides, and refuses a request that is not one or does not hold.
import { X509Certificate } from 'node:crypto';
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { issueAgentCertificate } from '../../src/controller/pki/client-certificates.js';
import { keyRequest, requestedKey } from '../../src/core/pki/key-request.js';
import { newKeyPair, x509 } from '../../src/core/pki/x509.js';
import { newCa } from './pki-fixture.js';

describe("an agent's certificate request", () => {
  it('is certified for the key the agent holds', async () => {
    const { ca, dataDir } = await newCa();
    const keys = await newKeyPair();
    const publicKey = await requestedKey(await keyRequest(keys), 'agent srv-b7');
    const issued = await issueAgentCertificate(ca, 'srv-b7', publicKey);
    const held = Buffer.from(await crypto.subtle.exportKey('spki', keys.publicKey));
    expect(new X509Certificate(issued.certPem).publicKey.export({ type: 'spki', format: 'der' })).toEqual(held);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is refused when it is not PKCS#10 PEM', async () => {
    await expect(requestedKey('hello', 'agent srv-b7')).rejects.toThrow(
      'agent srv-b7 sent a certificate request that is not PKCS#10 PEM: upgrade it to this Switchyard version',
    );
  });

  it('is refused when its signature does not hold', async () => {
    const der = new Uint8Array(x509.PemConverter.decodeFirst(await keyRequest(await newKeyPair())));
    der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0x01;
    await expect(requestedKey(x509.PemConverter.encode(der, 'CERTIFICATE REQUEST'), 'agent srv-b7')).rejects.toThrow(
      'agent srv-b7 sent a certificate request whose signature does not hold: it must be made afresh with the key it names',
    );
  });
});
