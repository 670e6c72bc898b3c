import { YardError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { requestedKey } from '../core/pki/key-request.js';
import { hostnameSchema, plainText, serverIdSchema, validate } from '../core/validate.js';
import type { JoinRequest, JoinResponse } from '../gen/switchyard/v1/agent_gateway.js';
import type { CertificateAuthority } from './pki/certificate-authority.js';
import { issueAgentCertificate } from './pki/client-certificates.js';
import type { IssuedRecord, Store } from './store.js';
import { tokensEqual } from './token.js';
import { z } from 'zod';

const joinSchema = z.looseObject({
  serverId: serverIdSchema,
  hostname: hostnameSchema,
  name: plainText(64),
  certificateRequest: z.string().min(1, 'must not be empty').max(8192, 'must be at most 8 KiB'),
});

/**
 * Agents' certificates. The join secret admits a new server id, and the certificate issued
 * for the key the agent made itself speaks for that id from then on; an id with a certificate
 * in force cannot be joined again (a leaked join token cannot claim a host), only renewed by
 * the agent holding that certificate.
 */
export class AgentEnrollment {
  constructor(
    private readonly o: {
      ca: CertificateAuthority;
      store: Pick<Store, 'certificates' | 'putCertificate'>;
      /** The join secret in force now (`yard token rotate` replaces it). */
      joinSecret: () => string;
      log: Logger;
    },
  ) {}

  async join(req: JoinRequest, peer: string): Promise<JoinResponse> {
    const who = `agent ${req.name || req.hostname || peer}`;
    if (!req.joinSecret)
      throw new YardError(
        'UNAUTHENTICATED',
        `${who} is joining without the join token: give the agent --token-file FILE or $YARD_JOIN_TOKEN (\`yard token\` on the controller host prints it)`,
      );
    if (!tokensEqual(req.joinSecret, this.o.joinSecret()))
      throw new YardError(
        'UNAUTHENTICATED',
        `${who} presented a wrong join token (or one replaced by \`yard token rotate\`): use the one \`yard token\` prints on the controller host`,
      );
    const checked = validate(joinSchema, req, 'join request');
    if (this.inForce(checked.serverId).length > 0)
      throw new YardError(
        'PERMISSION_DENIED',
        `${who} claims server id ${checked.serverId}, which joined already and holds a certificate: only that agent (agent.crt and agent.key in its data dir) may speak for it; start this agent with its own --data-dir to join as a new server, or \`yard server remove\` the old one first`,
        { serverId: checked.serverId },
      );
    const certificate = await this.issue(checked.serverId, checked.certificateRequest, who, `join (${peer})`);
    this.o.log.info('agent joined', { server: checked.serverId, name: req.name || req.hostname, peer });
    return { certificate, caCertificate: this.o.ca.certPem };
  }

  /** A new certificate for the agent whose certificate makes the call. */
  async renew(serverId: string, certificateRequest: string): Promise<string> {
    return this.issue(serverId, certificateRequest, `agent ${serverId}`, 'renewal');
  }

  private inForce(serverId: string): IssuedRecord[] {
    return this.o.store.certificates().filter((c) => c.kind === 'agent' && c.name === serverId && c.revokedMs === 0);
  }

  private async issue(serverId: string, csr: string, who: string, how: string): Promise<string> {
    const key = await requestedKey(csr, who);
    const issued = await issueAgentCertificate(this.o.ca, serverId, key);
    this.o.store.putCertificate({
      serial: issued.serial,
      kind: 'agent',
      name: serverId,
      role: '',
      issuedMs: Date.now(),
      notAfterMs: issued.notAfter.getTime(),
      issuedBy: how,
      revokedMs: 0,
      revokedBy: '',
    });
    return issued.certPem;
  }
}
