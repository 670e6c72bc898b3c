// The operator's credential file: written owner-only and never over another file by accident,
// read back only when it is owner-only, ours, whole and sound — each refusal naming the file
// and what to do.
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCredential, writeCredential, type Credential } from '../../src/cli/credential.js';
import { issueOperatorCertificate } from '../../src/controller/pki/client-certificates.js';
import { newKeyPair, privateKeyPem } from '../../src/core/pki/x509.js';
import { tempDir } from '../helpers/procs.js';
import { newCa } from './pki-fixture.js';

const DAY_MS = 86_400_000;

async function credential(ca: Awaited<ReturnType<typeof newCa>>['ca'], lifetimeMs = 30 * DAY_MS): Promise<Credential> {
  const keys = await newKeyPair();
  const issued = await issueOperatorCertificate(ca, { name: 'alice', role: 'operator' }, keys.publicKey, {
    lifetimeMs,
  });
  return {
    name: 'alice',
    role: 'operator',
    controller: '10.0.0.5:50050',
    notAfterMs: issued.notAfter.getTime(),
    certificate: issued.certPem,
    key: await privateKeyPem(keys.privateKey),
    ca: ca.certPem,
  };
}

let good: Credential;
let other: Credential;
let dir: string;
beforeAll(async () => {
  good = await credential((await newCa()).ca);
  other = await credential((await newCa()).ca);
  dir = tempDir('yard-credential-');
});

let n = 0;
const path = () => join(dir, `cred-${++n}.json`);

/** A credential file with some fields changed, written 0600 as `yard access grant` would. */
async function tampered(change: (doc: Record<string, unknown>) => void): Promise<string> {
  const file = path();
  await writeCredential(file, good);
  const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  change(doc);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

describe('writeCredential', () => {
  it('writes one owner-only JSON file that reads back whole', async () => {
    const file = path();
    await writeCredential(file, good);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    expect(doc).toEqual({
      kind: 'yard-credential',
      version: 1,
      name: 'alice',
      role: 'operator',
      controller: '10.0.0.5:50050',
      notAfter: new Date(good.notAfterMs).toISOString(),
      certificate: good.certificate,
      key: good.key,
      ca: good.ca,
    });
    expect(await readCredential(file)).toEqual({ ...good, notAfterMs: Math.floor(good.notAfterMs / 1000) * 1000 });
  });

  it('refuses to replace a file unless forced, and a forced one is owner-only again', async () => {
    const file = path();
    writeFileSync(file, 'precious', { mode: 0o644 });
    await expect(writeCredential(file, good)).rejects.toMatchObject({
      code: 'ALREADY_EXISTS',
      message: expect.stringContaining(`${file} already exists: give another --out, or --force`),
    });
    expect(readFileSync(file, 'utf8')).toBe('precious');
    await writeCredential(file, good, { force: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await readCredential(file)).name).toBe('alice');
  });

  it('writes to a stream (standard output) as is', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => {
      text += c.toString();
    });
    await writeCredential(out, good);
    expect(JSON.parse(text)).toMatchObject({ kind: 'yard-credential', name: 'alice', key: good.key });
  });
});

describe('readCredential refuses', () => {
  it('a file others can read, saying chmod 600', async () => {
    const file = path();
    await writeCredential(file, good);
    chmodSync(file, 0o640);
    await expect(readCredential(file)).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
      message: expect.stringContaining(`credential file ${file} can be read by others (mode 0640)`),
    });
    await expect(readCredential(file)).rejects.toThrow(`\`chmod 600 ${file}\``);
  });

  it('a file that is not there, saying who makes one', async () => {
    await expect(readCredential(join(dir, 'missing.json'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('`yard access grant NAME --out FILE`'),
    });
  });

  it.each([
    [
      'no kind',
      (d: Record<string, unknown>) => Object.assign(d, { kind: undefined }),
      /is not a Switchyard credential/,
    ],
    [
      'another kind',
      (d: Record<string, unknown>) => Object.assign(d, { kind: 'kubeconfig' }),
      /"kind" is not "yard-credential"/,
    ],
    [
      'another version',
      (d: Record<string, unknown>) => Object.assign(d, { version: 2 }),
      /has version 2, and this yard reads version 1/,
    ],
    [
      'no key',
      (d: Record<string, unknown>) => Object.assign(d, { key: undefined }),
      /has no "key": it is not a whole credential/,
    ],
    ['no name', (d: Record<string, unknown>) => Object.assign(d, { name: '' }), /has no "name"/],
    [
      'a bad role',
      (d: Record<string, unknown>) => Object.assign(d, { role: 'root' }),
      /names role "root", not one of viewer, operator, admin/,
    ],
    [
      'a bad controller',
      (d: Record<string, unknown>) => Object.assign(d, { controller: 'nowhere' }),
      /is not HOST:PORT/,
    ],
    [
      'a bad date',
      (d: Record<string, unknown>) => Object.assign(d, { notAfter: 'soon' }),
      /"notAfter" that is not a date/,
    ],
    [
      'a damaged certificate',
      (d: Record<string, unknown>) =>
        Object.assign(d, { certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }),
      /"certificate" that is not a PEM certificate/,
    ],
    [
      'a damaged CA',
      (d: Record<string, unknown>) => Object.assign(d, { ca: 'hello' }),
      /"ca" that is not a PEM certificate/,
    ],
    [
      'a damaged key',
      (d: Record<string, unknown>) =>
        Object.assign(d, { key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }),
      /"key" that is not a PEM private key/,
    ],
    [
      "a key that is not the certificate's",
      (d: Record<string, unknown>) => Object.assign(d, { key: other.key }),
      /has a key that is not its certificate's/,
    ],
    [
      'a certificate of another CA',
      (d: Record<string, unknown>) => Object.assign(d, { ca: other.ca }),
      /certificate its CA did not issue/,
    ],
  ])('%s', async (_what, change, message) => {
    const file = await tampered(change);
    const err = await readCredential(file).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) });
    expect((err as Error).message).toContain(file);
  });

  it('a file that is not JSON at all', async () => {
    const file = path();
    writeFileSync(file, 'certificate: yes', { mode: 0o600 });
    await expect(readCredential(file)).rejects.toMatchObject({
      message: `credential file ${file} is not JSON: give the file \`yard access grant\` wrote`,
    });
  });

  it('an expired credential, saying whom to ask', async () => {
    const file = path();
    await writeCredential(file, good);
    await expect(readCredential(file, good.notAfterMs + 1000)).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: expect.stringMatching(/credential in .* \(alice\) expired at .*`yard access grant alice`/),
    });
  });
});
