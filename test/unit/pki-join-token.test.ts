// The join token carries the CA's pin: written and read back, refused when malformed, and the
// pin of one controller's CA never matches another's.
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatJoinToken, parseJoinToken, pinMatches } from '../../src/core/pki/join-token.js';
import { loadOrCreateToken } from '../../src/controller/token.js';
import { newCa } from './pki-fixture.js';

describe('the join token', () => {
  it('carries the secret the controller already makes and the CA pin, and reads back whole', async () => {
    const { ca, dataDir } = await newCa();
    const secret = await loadOrCreateToken(`${dataDir}/token`);
    const text = formatJoinToken({ secret, caPin: ca.fingerprint });
    expect(text).toMatch(/^yard1\.yard_[A-Za-z0-9_-]{32}\.sha256:[0-9a-f]{64}$/);
    expect(parseJoinToken(`${text}\n`)).toEqual({ secret, caPin: ca.fingerprint });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it.each([
    ['an old token without a pin', 'yard_AbCdEfGhIjKlMnOpQrStUvWxYz012345'],
    ['a cut-off pin', `yard1.yard_AbCdEfGhIjKlMnOp.sha256:${'a'.repeat(63)}`],
    ['another digest', `yard1.yard_AbCdEfGhIjKlMnOp.md5:${'a'.repeat(32)}`],
    ['a secret with a dot', `yard1.yard_AbCd.EfGhIjKlMnOp.sha256:${'a'.repeat(64)}`],
    ['an unknown version', `yard2.yard_AbCdEfGhIjKlMnOp.sha256:${'a'.repeat(64)}`],
  ])('refuses %s, saying what the token looks like and where to get it', (_, text) => {
    expect(() => parseJoinToken(text)).toThrow(
      'the join token is malformed: expected yard1.<secret>.sha256:<64 hex digits>; copy it whole from `yard token` on the controller host',
    );
  });

  it("matches its own controller's CA and not another's", async () => {
    const [mine, theirs] = await Promise.all([newCa(), newCa()]);
    const token = parseJoinToken(formatJoinToken({ secret: 'yard_AbCdEfGhIjKlMnOp', caPin: mine.ca.fingerprint }));
    expect(pinMatches(token, mine.ca.certPem)).toBe(true);
    expect(pinMatches(token, theirs.ca.certPem)).toBe(false);
    for (const { dataDir } of [mine, theirs]) rmSync(dataDir, { recursive: true, force: true });
  });
});
