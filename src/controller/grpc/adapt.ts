import type { Metadata, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { toServiceError } from '../../core/rpc/errors.js';
import type { Caller } from '../service/caller.js';
import { callerOf } from './auth.js';

/** A unary Control handler: its caller, then the service (sync or async); errors become structured statuses. */
export function unary<Req, Res>(handle: (req: Req, caller: Caller) => Res | Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    Promise.resolve()
      .then(() => handle(call.request, callerOf(call)))
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceError(err)),
      );
  };
}

/** A unary AgentGateway handler: no caller (the handler asks for the agent it needs); errors become structured statuses. */
export function agentUnary<Req, Res>(handle: (call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    Promise.resolve()
      .then(() => handle(call))
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceError(err)),
      );
  };
}

interface StreamCall {
  metadata: Metadata;
  emit(event: 'error', err: unknown): boolean;
}

/**
 * A streaming Control handler: `run` starts at once with the call's caller; what it throws, or
 * the promise it returns rejects with, ends the stream with a structured status.
 */
export function streaming<C extends StreamCall>(run: (call: C, caller: Caller) => void | Promise<void>) {
  return (call: C) => {
    const fail = (err: unknown) => void call.emit('error', toServiceError(err));
    try {
      void Promise.resolve(run(call, callerOf(call))).catch(fail);
    } catch (err) {
      fail(err);
    }
  };
}
