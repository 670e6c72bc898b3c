import { YardError } from '../../core/errors.js';
import { roleHolds, type Role } from '../../core/pki/roles.js';

export type { Role };

/** Who asks, resolved once where the call comes in; the audit trail names them by `name`. */
export interface Caller {
  readonly name: string;
  /** The door: the owner-only Unix socket, a TCP listener with an operator's certificate, or the dashboard in the controller's own process. */
  readonly via: 'unix-socket' | 'certificate' | 'embedded';
  readonly role: Role;
}

/** Throws PERMISSION_DENIED unless `caller` holds `operation.role` or a stronger one. */
export function authorize(caller: Caller, operation: { name: string; role: Role }): void {
  if (roleHolds(caller.role, operation.role)) return;
  throw new YardError(
    'PERMISSION_DENIED',
    `${operation.name} needs the ${operation.role} role; ${caller.name} (${caller.via}) has ${caller.role}: ask an admin for a credential with that role`,
    { operation: operation.name, role: operation.role },
  );
}
