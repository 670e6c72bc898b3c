import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { YardError, errorMessage } from '../errors.js';
import { ErrorDetail } from '../../gen/switchyard/v1/fleet.js';

/** Trailing metadata key that carries an encoded ErrorDetail with every failed RPC. */
const ERROR_DETAIL_KEY = 'switchyard-error-bin';

const STATUS_BY_CODE: Record<string, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  PROTOCOL_VERSION: status.FAILED_PRECONDITION,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  NOT_FOUND: status.NOT_FOUND,
  SUPERSEDED: status.ABORTED,
  UNAVAILABLE: status.UNAVAILABLE,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  PORT_IN_USE: status.ALREADY_EXISTS,
  LISTEN_FAILED: status.FAILED_PRECONDITION,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
};

/** Turns any error into a gRPC status with a structured detail — never a stack trace. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const detail: ErrorDetail =
    err instanceof YardError
      ? { code: err.code, message: err.message, details: err.details }
      : { code: 'INTERNAL', message: `internal error: ${errorMessage(err)}`, details: {} };
  const metadata = new Metadata();
  metadata.set(ERROR_DETAIL_KEY, Buffer.from(ErrorDetail.encode(detail).finish()));
  return { code: STATUS_BY_CODE[detail.code] ?? status.INTERNAL, details: detail.message, metadata };
}

/** Reads the structured detail back from a failed call, if the server sent one. */
export function errorDetailOf(err: Partial<ServiceError>): ErrorDetail | undefined {
  const raw = err.metadata?.get(ERROR_DETAIL_KEY)[0];
  if (!Buffer.isBuffer(raw)) return undefined;
  try {
    return ErrorDetail.decode(raw);
  } catch {
    return undefined;
  }
}
