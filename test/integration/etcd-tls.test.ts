// A controller on an etcd that speaks TLS and wants client certificates (what the fleet's CA key
// in etcd calls for): with --etcd-ca/--etcd-cert/--etcd-key it starts and leads; without a client
// certificate, or without trusting etcd's CA, it stops with what failed. The certificates are made
// here with openssl: a CA, a member certificate for 127.0.0.1, a client certificate.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdCluster, etcdAvailable } from '../helpers/etcd.js';
import { assertBuilt, freePort, runYard, startControllerProc, tempDir, type YardProcess } from '../helpers/procs.js';

const ssl = (dir: string, ...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A CA and two certificates it signs: one for the member (127.0.0.1, server and client), one for the controller. */
function makePki(dir: string) {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  ssl(
    dir,
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=yard-test-etcd-ca',
    '-days',
    '1',
  );
  const sign = (name: string, ext: string) => {
    ssl(dir, 'req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    execFileSync('sh', ['-c', `printf '%s\\n' "${ext}" > ${name}.ext`], { cwd: dir });
    ssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    );
  };
  sign('member', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth');
  sign('yard', 'extendedKeyUsage=clientAuth');
  return { ca: join(dir, 'ca.crt'), member: join(dir, 'member'), client: join(dir, 'yard') };
}

describe.skipIf(!etcdAvailable)('the controller on an etcd that speaks TLS', () => {
  let etcd: EtcdCluster;
  let pki: ReturnType<typeof makePki>;
  let ctl: YardProcess | undefined;

  beforeAll(async () => {
    assertBuilt();
    pki = makePki(tempDir('yard-etcd-pki-'));
    etcd = await EtcdCluster.start(1, [], {
      certFile: `${pki.member}.crt`,
      keyFile: `${pki.member}.key`,
      caFile: pki.ca,
    });
  }, 60_000);

  afterAll(async () => {
    await ctl?.stop();
    await etcd?.stop();
  });

  it('starts and leads with --etcd-ca, --etcd-cert and --etcd-key', async () => {
    const dir = tempDir('yard-etcd-tls-');
    ctl = startControllerProc(dir, await freePort(), [
      '--store',
      `etcd://${etcd.endpoints.join(',')}`,
      '--etcd-ca',
      pki.ca,
      '--etcd-cert',
      `${pki.client}.crt`,
      '--etcd-key',
      `${pki.client}.key`,
    ]);
    await ctl.waitForOutput(/controller listening/, 30_000);
    expect(ctl.output).toMatch(/elected leader/);
    const r = await runYard(['status', '--json', '--data-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('stops, saying what failed, with no client certificate', async () => {
    const r = await runYard(
      [
        'controller',
        '--data-dir',
        tempDir('yard-etcd-tls-'),
        '--listen',
        '127.0.0.1:0',
        '--store',
        `etcd://${etcd.endpoints.join(',')}`,
        '--etcd-ca',
        pki.ca,
      ],
      {},
      40_000,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`etcd at ${etcd.endpoints.join(',')} failed`);
  });

  it('refuses --etcd-cert without --etcd-key, and the TLS flags with the file store, with exit 2', async () => {
    const dir = tempDir('yard-etcd-tls-');
    const half = await runYard([
      'controller',
      '--data-dir',
      dir,
      '--store',
      `etcd://${etcd.endpoints.join(',')}`,
      '--etcd-ca',
      pki.ca,
      '--etcd-cert',
      `${pki.client}.crt`,
    ]);
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/--etcd-cert and --etcd-key go together/);
    const file = await runYard(['controller', '--data-dir', dir, '--etcd-ca', pki.ca]);
    expect(file.code).toBe(2);
    expect(file.stderr).toMatch(/only apply to --store etcd/);
  });
});
