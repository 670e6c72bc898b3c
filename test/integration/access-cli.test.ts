// `yard access`, `yard whoami`, `yard token rotate` and `yard server remove` as an admin types
// them: the built CLI against a Control service with the real service, CA and store behind it
// (on the data dir's Unix socket, as on the controller's host). What is printed where, the exit
// codes, and the credential file on disk.
import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCredential } from '../../src/cli/credential.js';
import { localAuth } from '../../src/controller/grpc/auth.js';
import { checkCertificate } from '../../src/controller/pki/certificate-check.js';
import { CertificateAuthority } from '../../src/controller/pki/certificate-authority.js';
import { controllerFiles } from '../../src/core/paths.js';
import { assertBuilt, runYard, tempDir } from '../helpers/procs.js';
import { controlFixture, type ControlFixture } from '../unit/access-fixture.js';

describe('yard access, whoami, token rotate, server remove', () => {
  let ctl: ControlFixture;
  const out = tempDir('yard-access-cli-');
  const yard = (...args: string[]) => runYard(['--data-dir', ctl.dataDir, ...args]);

  beforeAll(async () => {
    assertBuilt();
    ctl = await controlFixture(localAuth, '0.0.0.0:50123');
  });
  afterAll(() => ctl?.close());

  it('whoami names the caller, its role and its door', async () => {
    const r = await yard('whoami');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^name: \S+\nrole: admin\nvia: unix-socket\n$/);
  });

  it('grant writes an owner-only credential the controller admits, naming where to dial it', async () => {
    const file = join(out, 'alice.yard');
    const r = await yard('access', 'grant', 'alice', '--role', 'operator', '--expires', '30d', '--out', file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^alice is granted the operator role until \S+ \(serial [0-9a-f]+\); the credential is in /,
    );
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const credential = await readCredential(file);
    expect(credential).toMatchObject({ name: 'alice', role: 'operator', controller: `${hostname()}:50123` });
    expect(credential.notAfterMs - Date.now()).toBeGreaterThan(29 * 86_400_000);
    const ca = await CertificateAuthority.loadOrCreate(controllerFiles(ctl.dataDir));
    expect(checkCertificate(credential.certificate, ca, { isRevoked: () => false })).toMatchObject({
      ok: true,
      identity: { kind: 'operator', name: 'alice', role: 'operator' },
    });

    // The same --out again: refused before anything is issued.
    const again = await yard('access', 'grant', 'alice', '--role', 'admin', '--out', file);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${file} already exists: give another --out, or --force`);
    const list = await yard('access', 'list', '--json');
    expect(JSON.parse(list.stdout).filter((g: { name: string }) => g.name === 'alice')).toHaveLength(1);
  });

  it('grant without --out prints the credential alone on standard output, and a note on standard error', async () => {
    const r = await yard('access', 'grant', 'bob@noc', '--role', 'viewer');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      kind: 'yard-credential',
      version: 1,
      name: 'bob@noc',
      role: 'viewer',
    });
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('the credential went to standard output');
  });

  it.each([
    [['access', 'grant', 'bob smith', '--role', 'viewer'], 'operator name "bob smith" is not valid'],
    [['access', 'grant', 'carol', '--role', 'root'], 'Choices: "viewer", "operator", "admin"'],
    [['access', 'grant', 'carol', '--role', 'viewer', '--expires', '6y'], 'at most 5 years'],
    [['access', 'grant', 'carol'], 'Missing required argument: role'],
    [['access'], 'name an access command: grant, list or revoke'],
  ])('refuses %j as a usage error (exit 2)', async (args, message) => {
    const r = await yard(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('list shows each credential with its state; revoke ends them and says so', async () => {
    await yard('access', 'grant', 'dave', '--role', 'viewer', '--out', join(out, 'dave.yard'));
    const revoke = await yard('access', 'revoke', 'dave');
    expect(revoke.code, revoke.stderr).toBe(0);
    expect(revoke.stdout).toMatch(/^revoked dave's credential \(serial [0-9a-f]+\): refused from now on\n$/);
    expect(ctl.revoked.at(-1)).toHaveLength(1);
    const again = await yard('access', 'revoke', 'dave');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('every credential of "dave" is already revoked');

    const table = await yard('access', 'list');
    expect(table.stdout).toMatch(/^NAME +ROLE +SERIAL +GRANTED +EXPIRES +STATE +BY\n/);
    expect(table.stdout).toMatch(/\ndave +viewer +[0-9a-f]+ +\S+ \S+ +\S+ \S+ +revoked +\S+; revoked by \S+/);
    expect(table.stdout).toMatch(/\nalice +operator +[0-9a-f]+ +\S+ \S+ +\S+ \S+ +in force +\S+/);
    const json = await yard('access', 'list', '--json');
    expect(json.stdout).not.toContain('PRIVATE KEY');
    expect(json.stdout).not.toContain('CERTIFICATE');
    expect(JSON.parse(json.stdout).find((g: { name: string }) => g.name === 'dave')).toMatchObject({
      state: 'revoked',
      revoked: expect.any(String),
    });
  });

  it('token rotate prints the new join token alone on standard output', async () => {
    const r = await yard('token', 'rotate');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^yard1\.[A-Za-z0-9_-]+\.sha256:[0-9a-f]{64}\n$/);
    expect(r.stderr).toContain('agents that joined keep their certificates');
  });

  it('server remove forgets a server; an unknown one is NOT_FOUND (exit 1)', async () => {
    ctl.connect('edge-9');
    const r = await yard('server', 'remove', 'edge-9');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('removed server edge-9 (id-edge-9)');
    expect(ctl.registry.get('edge-9')).toBeUndefined();
    const ghost = await yard('server', 'remove', 'edge-9');
    expect(ghost.code).toBe(1);
    expect(ghost.stderr).toContain('no server "edge-9": `yard servers` lists them');
  });

  it('leaves no key and no join token in the audit trail', async () => {
    const r = await yard('audit', '--limit', '0');
    expect(r.stdout).toContain('access.grant');
    expect(r.stdout).toContain('token.rotate');
    expect(r.stdout).not.toContain('PRIVATE KEY');
    expect(r.stdout).not.toContain('yard1.');
  });
});
