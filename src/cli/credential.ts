import { createPrivateKey, X509Certificate } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { parseHostPort } from '../core/address.js';
import { YardError, errorMessage } from '../core/errors.js';
import { isRole, ROLES, type Role } from '../core/pki/roles.js';
import { printable } from '../core/printable.js';

/**
 * An operator's credential, as `yard access grant` writes it and `--credential FILE` reads it:
 * one owner-only JSON file with the certificate, its private key and the CA to trust.
 */
export interface Credential {
  name: string;
  role: Role;
  /** HOST:PORT of the controller that issued it. */
  controller: string;
  notAfterMs: number;
  /** PEM. */
  certificate: string;
  /** PKCS#8 PEM: the private key, made on the operator's machine. */
  key: string;
  /** PEM of the controller's CA. */
  ca: string;
}

const KIND = 'yard-credential';
const VERSION = 1;
/** A credential is a few KiB; this keeps a wrong path (a log, a disk image) from filling memory. */
const MAX_BYTES = 64 * 1024;

/** The file's text: JSON, fields in the order a person reads them. */
function credentialJson(c: Credential): string {
  const doc = {
    kind: KIND,
    version: VERSION,
    name: c.name,
    role: c.role,
    controller: c.controller,
    notAfter: new Date(c.notAfterMs).toISOString(),
    certificate: c.certificate,
    key: c.key,
    ca: c.ca,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * Writes the credential to `out`: a file, created owner-only (0600) and never over an existing
 * one unless `force`; or a stream (standard output) as is.
 */
export async function writeCredential(
  out: string | NodeJS.WritableStream,
  credential: Credential,
  { force = false }: { force?: boolean } = {},
): Promise<void> {
  const text = credentialJson(credential);
  if (typeof out !== 'string') {
    await new Promise<void>((resolve, reject) => out.write(text, (err) => (err ? reject(err) : resolve())));
    return;
  }
  // Replaced, not rewritten: an existing file keeps its mode when written over, and it may be 0644.
  if (force) await rm(out, { force: true });
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(out, 'wx', 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST')
      throw new YardError(
        'ALREADY_EXISTS',
        `${out} already exists: give another --out, or --force to replace it (the credential in it stops being usable only when revoked)`,
        { file: out },
      );
    throw new YardError('INVALID_ARGUMENT', `cannot write the credential to ${out}: ${errorMessage(err)}`, {
      file: out,
    });
  }
  try {
    await handle.chmod(0o600);
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

function bad(file: string, what: string): YardError {
  return new YardError('INVALID_ARGUMENT', `credential file ${file} ${what}`, { file });
}

async function readText(file: string): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new YardError(
        'NOT_FOUND',
        `credential file ${file} does not exist: an admin makes one with \`yard access grant NAME --out FILE\``,
        { file },
      );
    throw bad(file, `cannot be read: ${errorMessage(err)}`);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw bad(file, 'is not a regular file');
    if (st.mode & 0o077)
      throw new YardError(
        'PERMISSION_DENIED',
        `credential file ${file} can be read by others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}), and it holds a private key: \`chmod 600 ${file}\`, and ask an admin to revoke it if others may have copied it`,
        { file },
      );
    if (st.size > MAX_BYTES) throw bad(file, `is ${st.size} bytes: a credential is a few KiB; is it the right file?`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

function field(file: string, doc: Record<string, unknown>, name: string): string {
  const value = doc[name];
  if (typeof value !== 'string' || value.trim() === '')
    throw bad(file, `has no "${name}": it is not a whole credential`);
  return value;
}

function certificate(file: string, pem: string, which: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw bad(file, `has a "${which}" that is not a PEM certificate: it was damaged; ask an admin for a new one`);
  }
}

/**
 * Reads and checks a credential file: owner-only, ours (kind and version), whole, its PEMs
 * sound, the key the certificate's, the certificate signed by the CA in it, not expired.
 */
export async function readCredential(file: string, nowMs = Date.now()): Promise<Credential> {
  const text = await readText(file);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad(file, 'is not JSON: give the file `yard access grant` wrote');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw bad(file, 'is not a credential: give the file `yard access grant` wrote');
  const d = doc as Record<string, unknown>;
  if (d.kind !== KIND) throw bad(file, `is not a Switchyard credential (its "kind" is not "${KIND}")`);
  if (d.version !== VERSION)
    throw bad(
      file,
      `has version ${printable(String(d.version))}, and this yard reads version ${VERSION}: use the yard of the controller that issued it`,
    );
  const name = field(file, d, 'name');
  const role = field(file, d, 'role');
  if (!isRole(role)) throw bad(file, `names role "${printable(role)}", not one of ${ROLES.join(', ')}`);
  const controller = field(file, d, 'controller');
  try {
    parseHostPort(controller, 'its "controller"');
  } catch (err) {
    throw bad(file, errorMessage(err));
  }
  const notAfterMs = Date.parse(field(file, d, 'notAfter'));
  if (Number.isNaN(notAfterMs)) throw bad(file, 'has a "notAfter" that is not a date');
  const certPem = field(file, d, 'certificate');
  const keyPem = field(file, d, 'key');
  const caPem = field(file, d, 'ca');
  const cert = certificate(file, certPem, 'certificate');
  const ca = certificate(file, caPem, 'ca');
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw bad(file, 'has a "key" that is not a PEM private key: it was damaged; ask an admin for a new one');
  }
  if (!cert.checkPrivateKey(key))
    throw bad(file, "has a key that is not its certificate's: ask an admin for a new one");
  if (!cert.verify(ca.publicKey))
    throw bad(file, 'has a certificate its CA did not issue: it was put together from two credentials');
  if (nowMs >= Date.parse(cert.validTo))
    throw new YardError(
      'FAILED_PRECONDITION',
      `the credential in ${file} (${printable(name)}) expired at ${new Date(cert.validTo).toISOString()}: ask an admin for a new one (\`yard access grant ${printable(name)}\`)`,
      { file },
    );
  return { name, role, controller, notAfterMs, certificate: certPem, key: keyPem, ca: caPem };
}
