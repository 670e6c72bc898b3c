import type { Metadata } from '@grpc/grpc-js';
import { YardError } from '../../core/errors.js';
import { tokensEqual } from '../token.js';

/** Control calls carry the token as `authorization: Bearer <token>` when the listener needs one. */
export function checkBearer(metadata: Metadata, token: string | undefined): void {
  if (token === undefined) return;
  const header = String(metadata.get('authorization')[0] ?? '');
  const given = header.startsWith('Bearer ') ? header.slice(7) : '';
  if (!given) throw new YardError('UNAUTHENTICATED', 'this controller listens beyond loopback and needs a token: pass --token (see `yard token` on the controller host)');
  if (!tokensEqual(given, token)) throw new YardError('UNAUTHENTICATED', 'wrong token: pass the token `yard token` prints on the controller host');
}
