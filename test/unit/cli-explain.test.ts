import { status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { explain, type ControllerTarget } from '../../src/cli/client.js';

const target: ControllerTarget = { address: '127.0.0.2:50050', from: '--controller' } as ControllerTarget;
const failed = (details: string) => ({ code: status.UNAVAILABLE, details, message: details }) as ServiceError;

describe("the CLI's words for a TLS failure", () => {
  it('says the certificate does not name the address dialled, not that its CA is another', () => {
    // What grpc-js reports when the name check fails: Node's ERR_TLS_CERT_ALTNAME_INVALID.
    const err = explain(
      failed(
        "No connection established. Last error: Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: IP: 127.0.0.2 is not in the cert's list: 127.0.0.1",
      ),
      target,
    );
    expect(err.message).toMatch(/^the controller's certificate does not name 127\.0\.0\.2:50050/);
  });

  it('says another CA issued it when the chain does not verify', () => {
    const err = explain(
      failed('No connection established. Last error: Error: self-signed certificate in certificate chain'),
      target,
    );
    expect(err.message).toMatch(/presented a certificate the credential's CA did not issue/);
  });
});
