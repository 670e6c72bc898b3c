import { YardError } from '../../core/errors.js';

/** What a caller may do, weakest first: a viewer reads, an operator changes the fleet, an admin manages access. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who asks, resolved once where the call comes in; the audit trail names them by `name`. */
export interface Caller {
  readonly name: string;
  /** The door: the owner-only Unix socket, a TCP listener with the operator token, or the dashboard in the controller's own process. */
  readonly via: 'unix-socket' | 'certificate' | 'embedded';
  readonly role: Role;
}

/** Throws PERMISSION_DENIED unless `caller` holds `operation.role` or a stronger one. */
export function authorize(caller: Caller, operation: { name: string; role: Role }): void {
  if (ROLES.indexOf(caller.role) >= ROLES.indexOf(operation.role)) return;
  throw new YardError(
    'PERMISSION_DENIED',
    `${operation.name} needs the ${operation.role} role; ${caller.name} (${caller.via}) has ${caller.role}: ask an admin for a credential with that role`,
    { operation: operation.name, role: operation.role },
  );
}
