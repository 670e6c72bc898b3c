import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A one-time ticket for one direct checkpoint transfer (issue 13): the controller gives the
 * secret to the target agent and only its digest to the source; the source admits the target's
 * connection with the secret whose digest it holds, for that checkpoint and that target (whose
 * certificate says who it is), while the ticket lives.
 */
export interface TransferTicket {
  /** sha256 of the secret, hex: what the source holds. */
  digest: string;
  checkpointId: string;
  sourceServerId: string;
  targetServerId: string;
  /** Until when a transfer may start, or resume after its last connection (Date.now() ms). */
  expiresMs: number;
}

/** How long a ticket waits for a transfer to start, or a dropped one to resume. */
export const TICKET_TTL_MS = 60_000;

export function newTicketSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function ticketDigest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Constant-time comparison of two hex digests. */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
