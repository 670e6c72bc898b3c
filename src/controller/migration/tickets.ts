import { YardError } from '../../core/errors.js';
import { newTicketSecret, TICKET_TTL_MS, ticketDigest, type TransferTicket } from '../../core/transfer-ticket.js';

/** Tickets outstanding at once: one per migration in flight; more is a bug. */
const MAX_TICKETS = 1024;

/** The controller's side: it issues a ticket per direct transfer and forgets it when the move ends. */
export class TicketBook {
  private readonly issued = new Map<string, TransferTicket>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new ticket: the secret goes to the target, the ticket (digest only) to the source. */
  issue(
    grant: Omit<TransferTicket, 'digest' | 'expiresMs'>,
    ttlMs = TICKET_TTL_MS,
  ): { secret: string; ticket: TransferTicket } {
    this.prune();
    if (this.issued.size >= MAX_TICKETS)
      throw new YardError('RESOURCE_EXHAUSTED', `${MAX_TICKETS} checkpoint transfers are already waiting to start`);
    const secret = newTicketSecret();
    const ticket = { ...grant, digest: ticketDigest(secret), expiresMs: this.now() + ttlMs };
    this.issued.set(ticket.digest, ticket);
    return { secret, ticket };
  }

  /** The move ended: its ticket is forgotten. */
  cancel(digest: string): void {
    this.issued.delete(digest);
  }

  get outstanding(): number {
    this.prune();
    return this.issued.size;
  }

  private prune(): void {
    const now = this.now();
    for (const [digest, t] of this.issued) if (t.expiresMs <= now) this.issued.delete(digest);
  }
}
