// @peculiar/x509 resolves its ASN.1 classes through tsyringe, which needs the Reflect
// polyfill loaded first: importing the library through this file keeps that order.
import 'reflect-metadata';
import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

export { x509 };

export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** Every key of ours: ECDSA on P-256, signed with SHA-256 (small, fast, what TLS 1.3 prefers). */
export const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A fresh key pair made by Node's WebCrypto; the private half is exportable so it can be saved. */
export async function newKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

/** The private key as PKCS#8 PEM, the form node:tls and grpc-js take. */
export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

export async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return webcrypto.subtle.importKey('pkcs8', der, KEY_ALGORITHM, true, ['sign']);
}

/** A saved private key with its public half, for a new certificate request for the same key. */
export async function importKeyPair(pem: string): Promise<CryptoKeyPair> {
  const spki = createPublicKey(createPrivateKey(pem)).export({ type: 'spki', format: 'der' });
  return {
    privateKey: await importPrivateKey(pem),
    publicKey: await webcrypto.subtle.importKey('spki', spki, KEY_ALGORITHM, true, ['verify']),
  };
}
