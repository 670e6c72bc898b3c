import { readFile, rm, writeFile } from 'node:fs/promises';
import { YardError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { readCaFiles, writeCaFiles } from './pki/ca-files.js';
import { CertificateAuthority } from './pki/certificate-authority.js';
import type { EtcdStore } from './store-etcd.js';
import { loadOrCreateToken } from './token.js';

const CA_KEY = 'secrets/ca';
const JOIN_KEY = 'secrets/join-secret';

interface Files {
  caKey: string;
  caCert: string;
  token: string;
}

/**
 * Controllers on one etcd are one fleet: one CA (agents pin it in their join token) and one join
 * secret. The first controller puts its own in etcd; every other one takes them from there into its
 * data dir, so a new controller needs only `--store`. A data dir that already has a different CA is
 * refused, never overwritten: its agents trust that CA, and a silent switch would strand them.
 *
 * These are secrets in etcd: whoever reads etcd can issue certificates. Run etcd with client
 * certificates (`--etcd-ca/--etcd-cert/--etcd-key`) anywhere but a single trusted host.
 */
export async function adoptFleetSecrets(etcd: EtcdStore, files: Files, log: Logger): Promise<void> {
  const shared = await etcd.readText(CA_KEY);
  const local = await readCaFiles(files.caKey, files.caCert);
  if (shared) {
    const ca = parseCa(shared);
    if (!local) {
      await writeCaFiles(files.caKey, files.caCert, ca);
      log.info("took the fleet's CA from etcd");
    } else if (local.certPem.trim() !== ca.certPem.trim())
      throw new YardError(
        'FAILED_PRECONDITION',
        `${files.caCert} is another CA than the fleet's in etcd: a controller on this etcd must use the fleet's CA. Move ${files.caKey} and ${files.caCert} aside (agents that joined this controller alone must join again), or use another --store`,
      );
  } else {
    // The first on this etcd: its CA (made now if it has none) becomes the fleet's.
    let ca = local;
    if (!ca) {
      await CertificateAuthority.loadOrCreate(files);
      ca = (await readCaFiles(files.caKey, files.caCert))!;
    }
    const stored = parseCa(await etcd.adoptText(CA_KEY, JSON.stringify(ca)));
    if (stored.certPem.trim() !== ca.certPem.trim()) {
      if (local)
        throw new YardError(
          'FAILED_PRECONDITION',
          `another controller put its CA in etcd first, while this one had ${files.caCert}: move ${files.caKey} and ${files.caCert} aside and start again to take the fleet's`,
        );
      // Made a moment ago and trusted by no one yet: the fleet's replaces it.
      await Promise.all([rm(files.caKey), rm(files.caCert)]);
      await writeCaFiles(files.caKey, files.caCert, stored);
    }
  }
  const secret = await loadOrCreateToken(files.token);
  const fleetSecret = await etcd.adoptText(JOIN_KEY, secret);
  if (fleetSecret !== secret) await writeFile(files.token, fleetSecret + '\n', { mode: 0o600 });
}

/** `yard token rotate` on a controller on etcd: every controller that leads later admits with the new secret. */
export async function publishJoinSecret(etcd: EtcdStore, tokenFile: string): Promise<void> {
  await etcd.writeText(JOIN_KEY, (await readFile(tokenFile, 'utf8')).trim());
}

function parseCa(text: string): { keyPem: string; certPem: string } {
  try {
    const v = JSON.parse(text) as { keyPem?: unknown; certPem?: unknown };
    if (typeof v.keyPem === 'string' && typeof v.certPem === 'string') return { keyPem: v.keyPem, certPem: v.certPem };
  } catch {
    // said below
  }
  throw new YardError(
    'STORE_CORRUPT',
    `etcd key ${CA_KEY} under the store's prefix is not a CA ({"keyPem","certPem"}): restore it from a controller's ca.key and ca.crt`,
  );
}
