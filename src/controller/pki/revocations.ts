/**
 * Certificates revoked before their expiry, by serial (lower-case hex). Kept in memory here;
 * the store persists it once the listeners are wired, so a restart does not forgive anyone.
 */
export class Revocations {
  private readonly serials = new Map<string, number>();

  revoke(serial: string, atMs = Date.now()): void {
    this.serials.set(serial.toLowerCase(), atMs);
  }

  isRevoked(serial: string): boolean {
    return this.serials.has(serial.toLowerCase());
  }
}
