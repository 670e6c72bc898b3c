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

/**
 * What an error says. Not every error is an Error: grpc-js takes a plain status object
 * (`{ code, details }`), and String() of one would say only "[object Object]".
 */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err !== 'object' || err === null) return String(err);
  const { message, details } = err as { message?: unknown; details?: unknown };
  if (typeof message === 'string' && message !== '') return message;
  if (typeof details === 'string' && details !== '') return details;
  try {
    return JSON.stringify(err);
  } catch {
    return Object.prototype.toString.call(err);
  }
}
