import { YardError } from '../errors.js';
import { caFingerprint } from './fingerprint.js';

/**
 * A join token: `yard1.<secret>.sha256:<64 hex>`.
 *   yard1   the format's version, so a later format is told apart rather than misread;
 *   secret  what admits a new agent (base64url, no dots: the existing `yard_…` join token);
 *   sha256  the pin of the controller's CA (see caFingerprint), which the agent checks before
 *           it sends anything, so joining never trusts whoever answers first.
 */
export interface JoinToken {
  secret: string;
  caPin: string;
}

const FORMAT = /^yard1\.([A-Za-z0-9_-]{16,})\.(sha256:[0-9a-f]{64})$/;

export function formatJoinToken(token: JoinToken): string {
  return `yard1.${token.secret}.${token.caPin}`;
}

export function parseJoinToken(text: string): JoinToken {
  const m = FORMAT.exec(text.trim());
  if (!m?.[1] || !m[2])
    throw new YardError(
      'INVALID_ARGUMENT',
      `the join token is malformed: expected yard1.<secret>.sha256:<64 hex digits>; copy it whole from \`yard token\` on the controller host`,
    );
  return { secret: m[1], caPin: m[2] };
}

/** True when the CA certificate a controller presents is the one the token pins. */
export function pinMatches(token: JoinToken, caCertPem: string): boolean {
  return caFingerprint(caCertPem) === token.caPin;
}
