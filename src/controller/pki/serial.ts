import { randomBytes } from 'node:crypto';

/**
 * A serial number for a new certificate: 128 random bits (RFC 5280 allows up to 20 octets),
 * so two certificates of one CA never share one and revoking by serial names exactly one. The
 * first octet is kept from 0x10 to 0x7f: the DER integer stays positive, and its hex has no
 * leading zero, so node:crypto and @peculiar/x509 write it alike (32 hex digits).
 */
export function newSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x10;
  return bytes.toString('hex');
}
