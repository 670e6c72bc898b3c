import { type Server as GrpcServer, ServerCredentials } from '@grpc/grpc-js';
import { chmod, unlink } from 'node:fs/promises';
import { YardError, errorMessage } from '../../core/errors.js';

/**
 * The Unix socket, owner-only. Its directory is the data dir (owner-only too); a socket left
 * by a controller that died is replaced (a live one was ruled out by controller.json).
 */
export async function listenLocal(server: GrpcServer, path: string): Promise<string> {
  // sockaddr_un holds 108 bytes with its terminator.
  if (Buffer.byteLength(path) > 107)
    throw new YardError(
      'LISTEN_FAILED',
      `the control socket path ${path} is too long for a Unix socket (over 107 bytes): use a shorter --data-dir`,
    );
  await unlink(path).catch(() => undefined);
  const address = `unix:${path}`;
  await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  ).catch((err: unknown) => {
    throw new YardError('LISTEN_FAILED', `cannot listen on the control socket ${path}: ${errorMessage(err)}`);
  });
  await chmod(path, 0o600);
  return address;
}
