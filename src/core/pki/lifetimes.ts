const DAY_MS = 24 * 60 * 60 * 1000;

/** Long enough to outlive the fleet's hardware: replacing the CA means every agent joins again. */
export const CA_LIFETIME_MS = 10 * 365 * DAY_MS;
/** The controller's server certificate; renewed on its own, so short costs nothing. */
export const SERVER_LIFETIME_MS = 90 * DAY_MS;
/** An agent's client certificate; the agent renews it by itself while connected. */
export const AGENT_LIFETIME_MS = 30 * DAY_MS;
/** An operator's credential when `yard access grant` is given no --expires. */
export const OPERATOR_LIFETIME_MS = 365 * DAY_MS;

/**
 * Due for renewal once less than a third of its life is left: a controller or agent that was
 * down for a while still renews well before the certificate stops working.
 */
export function renewalDue(cert: { notBefore: Date; notAfter: Date }, nowMs = Date.now()): boolean {
  const life = cert.notAfter.getTime() - cert.notBefore.getTime();
  return cert.notAfter.getTime() - nowMs < life / 3;
}
