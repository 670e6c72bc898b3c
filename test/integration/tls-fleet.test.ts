// TLS between hosts: the controller in a network namespace of its own, on a 10.x address (never
// loopback), reached over its veth by the CLI and an agent in the test's namespace. Plaintext,
// an untrusting client, a wrong pin, a viewer's writes, revoked and expired credentials and a
// removed agent are all refused; openssl shows TLS 1.3 and the controller's chain.
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCredential, writeCredential } from '../../src/cli/credential.js';
import { CertificateAuthority } from '../../src/controller/pki/certificate-authority.js';
import { issueOperatorCertificate } from '../../src/controller/pki/client-certificates.js';
import { controllerFiles } from '../../src/core/paths.js';
import { formatJoinToken, parseJoinToken } from '../../src/core/pki/join-token.js';
import { newKeyPair, privateKeyPem } from '../../src/core/pki/x509.js';
import { ControlClient, type WatchFleetResponse } from '../../src/gen/switchyard/v1/control.js';
import { control } from '../helpers/control.js';
import { createHosts, netnsAvailable, type TestHost } from '../helpers/netns.js';
import { channelOf, credentialFile } from '../helpers/pki.js';
import {
  assertBuilt,
  freePort,
  joinArgs,
  runYard,
  startAgentProc,
  tempDir,
  waitFor,
  YardProcess,
} from '../helpers/procs.js';

const NETNS = netnsAvailable();

describe.skipIf(!NETNS)('TLS between hosts: a controller in its own network namespace, on a 10.x address', () => {
  let net: ReturnType<typeof createHosts>;
  let host: TestHost;
  let ctl: YardProcess;
  let address: string;
  let ip: string;
  const ctlDir = tempDir('yard-tls-ctl-');
  const agents: YardProcess[] = [];
  /** The CLI on the controller's host: its data dir, its socket. */
  const local = (...args: string[]) => runYard([args[0]!, '--data-dir', ctlDir, ...args.slice(1)], {}, 30_000);
  /** The CLI elsewhere: only a credential and the network. */
  const remote = (credential: string, ...args: string[]) =>
    runYard([args[0]!, '--data-dir', tempDir(), '--credential', credential, ...args.slice(1)], {}, 30_000);
  const names = async () =>
    (JSON.parse((await local('servers', '--json')).stdout) as { name: string; state: string }[]).map(
      (s) => `${s.name}:${s.state}`,
    );

  beforeAll(async () => {
    assertBuilt();
    net = createHosts(1);
    host = net.hosts[0]!;
    ip = host.gateway.replace(/\.1$/, '.2');
    address = `${ip}:${await freePort()}`;
    ctl = new YardProcess(
      ['controller', '--data-dir', ctlDir, '--listen', address, '--heartbeat', '200ms', '--grace', '2s'],
      {},
      host.wrap,
    );
    await ctl.waitForOutput(/controller listening/);
    agents.push(startAgentProc(address, tempDir('yard-tls-a-'), ['--name', 'edge-a', ...joinArgs(ctlDir)]));
    await waitFor('edge-a online', async () => ((await names()).includes('edge-a:online') ? true : undefined), 20_000);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([...agents, ctl].filter(Boolean).map((p) => p.stop()));
    net?.destroy();
  });

  it('speaks TLS 1.3 with the controller chain, for its 10.x address (openssl s_client)', () => {
    const sClient = (...args: string[]) => {
      const r = spawnSync('openssl', ['s_client', '-connect', address, ...args], {
        input: '',
        encoding: 'utf8',
        timeout: 10_000,
      });
      return r.stdout + r.stderr;
    };
    const verified = sClient('-CAfile', join(ctlDir, 'ca.crt'), '-verify_ip', ip, '-alpn', 'h2');
    expect(verified).toMatch(/TLSv1\.3/);
    expect(verified).toMatch(/Verify return code: 0 \(ok\)/);
    expect(verified).toMatch(/ALPN protocol: h2/);
    // The chain it sends: its own certificate, then the controller's CA.
    const chain = sClient('-showcerts');
    expect(chain).toMatch(/1 s:\s*CN\s*=\s*Switchyard CA /);
    expect(chain).toMatch(/0 s:\s*CN\s*=/);
    // Without the CA a client cannot verify it.
    expect(chain).toMatch(/self-signed certificate in certificate chain/);
  });

  it('refuses plaintext, and a client that does not trust its CA', async () => {
    const health = (creds: ReturnType<typeof credentials.createInsecure>) =>
      new Promise<ServiceError | undefined>((resolve) => {
        const c = new ControlClient(address, creds);
        c.overview({}, new Metadata(), { deadline: Date.now() + 5000 }, (err) => {
          c.close();
          resolve(err ?? undefined);
        });
      });
    expect((await health(credentials.createInsecure()))?.code).toBe(status.UNAVAILABLE);
    // The system's roots do not include a controller's own CA.
    const untrusting = await health(credentials.createSsl());
    expect(untrusting?.code).toBe(status.UNAVAILABLE);
    expect(untrusting?.details).toMatch(/self[- ]signed certificate in certificate chain/i);
    // A credential from another controller: its CA did not issue this one's certificate.
    const foreign = await credentialFile(tempDir(), address, 'stranger', 'admin');
    const r = await remote(foreign, 'servers');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/presented a certificate the credential's CA did not issue/);
  });

  it('an agent with a join token pinning another CA is refused before it sends anything', async () => {
    const token = parseJoinToken(readFileSync(join(ctlDir, 'join-token'), 'utf8'));
    const file = join(tempDir(), 'token');
    writeFileSync(file, formatJoinToken({ secret: token.secret, caPin: `sha256:${'a'.repeat(64)}` }), { mode: 0o600 });
    const seen = ctl.output.length;
    const r = await runYard(['agent', '--controller', address, '--data-dir', tempDir(), '--token-file', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not the one the join token pins \(sha256:a{64}\).*Nothing was sent/);
    expect(ctl.output.slice(seen)).not.toMatch(/join|refused/);
  });

  it("a viewer's credential reads the fleet but cannot run, migrate or change a route", async () => {
    const out = join(tempDir(), 'noc.json');
    const granted = await local('access', 'grant', 'noc-wall', '--role', 'viewer', '--expires', '30d', '--out', out);
    expect(granted.code, granted.stderr).toBe(0);
    expect((await readCredential(out)).controller).toBe(address);
    const servers = await remote(out, 'servers', '--json');
    expect(servers.code, servers.stderr).toBe(0);
    expect(servers.stdout).toContain('"edge-a"');
    const routeFile = join(tempDir(), 'web.json');
    writeFileSync(
      routeFile,
      JSON.stringify({
        name: 'web',
        listen: { server: 'edge-a', port: 18080 },
        backends: [{ address: '127.0.0.1:1', weight: 100 }],
      }),
    );
    for (const [args, action] of [
      [['run', '--on', 'edge-a', '--name', 'nope', '--', 'sleep', '1'], 'workload.run'],
      [['migrate', 'nope', '--to', 'edge-a'], 'migration.start'],
      [['route', 'apply', '-f', routeFile], 'route.apply'],
    ] as const) {
      const r = await remote(out, ...args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(`${action.replace('.', '\\.')} needs the operator role; noc-wall \\(certificate\\) has viewer`),
      );
    }
    const who = await remote(out, 'whoami');
    expect(who.stdout).toMatch(/noc-wall/);
    expect(who.stdout).toMatch(/viewer/);
  });

  it('a revoked credential is refused at once, its open watch ended with it', async () => {
    const out = join(tempDir(), 'ops.json');
    expect((await local('access', 'grant', 'ops', '--role', 'operator', '--out', out)).code).toBe(0);
    expect((await remote(out, 'servers')).code).toBe(0);
    const c = await readCredential(out);
    const client = new ControlClient(address, channelOf({ caPem: c.ca, keyPem: c.key, certPem: c.certificate }));
    const watch = client.watchFleet({});
    const ended = new Promise<{ err: ServiceError; atMs: number }>((resolve) =>
      watch.on('error', (err: ServiceError) => resolve({ err, atMs: Date.now() })),
    );
    await new Promise<void>((resolve) => watch.once('data', (_: WatchFleetResponse) => resolve()));
    const revokedAt = Date.now();
    const revoked = await local('access', 'revoke', 'ops');
    expect(revoked.code, revoked.stderr).toBe(0);
    const { err, atMs } = await ended;
    client.close();
    expect(err.code).toBe(status.PERMISSION_DENIED);
    expect(err.details).toMatch(/revoked/);
    expect(atMs - revokedAt).toBeLessThan(3000);
    const after = await remote(out, 'servers');
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/the credential of operator ops \(serial [0-9a-f]+\) was revoked/);
  });

  it('an expired credential is refused, by the CLI before it dials and by the controller', async () => {
    const ca = await CertificateAuthority.loadOrCreate(controllerFiles(ctlDir));
    const keys = await newKeyPair();
    const issued = await issueOperatorCertificate(ca, { name: 'temp', role: 'admin' }, keys.publicKey, {
      lifetimeMs: 1500,
      nowMs: Date.now() - 1000,
    });
    const pems = { caPem: ca.certPem, keyPem: await privateKeyPem(keys.privateKey), certPem: issued.certPem };
    await new Promise((r) => setTimeout(r, 1000));
    const api = control(address, pems);
    const err = await api.call(api.client.overview, {}).catch((e: unknown) => e);
    api.close();
    expect(err).toMatchObject({ code: 'UNAUTHENTICATED' });
    const file = join(tempDir(), 'temp.json');
    await writeCredential(file, {
      name: 'temp',
      role: 'admin',
      controller: address,
      notAfterMs: issued.notAfter.getTime(),
      certificate: pems.certPem,
      key: pems.keyPem,
      ca: pems.caPem,
    });
    const r = await remote(file, 'servers');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/expired at/);
  });

  it('a rotated join token admits new agents; the old one no longer does, and joined agents stay', async () => {
    const rotated = await local('token', 'rotate');
    expect(rotated.code, rotated.stderr).toBe(0);
    const fresh = rotated.stdout.trim();
    expect(fresh).toMatch(/^yard1\./);
    const oldFile = join(tempDir(), 'old');
    // What the file held before: the agent dir of edge-a joined with it; join-token now holds the new one.
    writeFileSync(oldFile, fresh.replace(parseJoinToken(fresh).secret, 'yard_thisisnotthesecretanymore'), {
      mode: 0o600,
    });
    const refused = await runYard(['agent', '--controller', address, '--data-dir', tempDir(), '--token-file', oldFile]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/wrong join token \(or one replaced by `yard token rotate`\)/);
    agents.push(startAgentProc(address, tempDir('yard-tls-b-'), ['--name', 'edge-b', ...joinArgs(ctlDir)]));
    await waitFor('edge-b online', async () => ((await names()).includes('edge-b:online') ? true : undefined), 20_000);
    expect(await names()).toContain('edge-a:online');
  });

  it('a removed agent is cut off at once and cannot reconnect', async () => {
    const edgeB = agents[1]!;
    const removed = await local('server', 'remove', 'edge-b');
    expect(removed.code, removed.stderr).toBe(0);
    await waitFor('edge-b gone', async () => (!(await names()).some((n) => n.startsWith('edge-b')) ? true : undefined));
    await edgeB.waitForOutput(/revoked/);
    // It keeps trying with its certificate, and stays out.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await names()).some((n) => n.startsWith('edge-b'))).toBe(false);
    expect(await names()).toContain('edge-a:online');
  });
});
