/**
 * An error meant for an operator: a stable code, one sentence saying what happened, to what
 * and what to do next, and details for machines. Crosses the wire as an ErrorDetail.
 */
export class YardError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'YardError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
