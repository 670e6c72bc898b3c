import { YardError } from '../errors.js';
import { printable } from '../printable.js';

/** What an operator's credential may do, least to most. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** An operator's name: what the certificate, the audit trail and `yard access list` show. */
const OPERATOR_NAME = /^[A-Za-z0-9._@-]{1,64}$/;

/** `name` when it can be an operator's; else INVALID_ARGUMENT saying what a name may hold. */
export function checkOperatorName(name: string): string {
  if (OPERATOR_NAME.test(name)) return name;
  throw new YardError(
    'INVALID_ARGUMENT',
    `operator name "${printable(name.slice(0, 80))}" is not valid: use 1 to 64 letters, digits, . _ @ or - (e.g. alice or alice@noc)`,
    { field: 'name' },
  );
}

/** True when `held` is `needed` or a stronger role: an admin may do what an operator may. */
export function roleHolds(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/** True when `value` names a role. */
export function isRole(value: string | undefined): value is Role {
  return (ROLES as readonly (string | undefined)[]).includes(value);
}
