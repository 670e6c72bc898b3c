import { randomBytes } from 'node:crypto';

/**
 * A serial number for a new certificate: 128 random bits (RFC 5280 allows up to 20 octets),
 * so two certificates of one CA never share one and revoking by serial names exactly one. The
 * first octet is kept below 0x80 and above zero: the DER integer stays positive and the hex is
 * the same however it is re-encoded.
 */
export function newSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString('hex');
}
