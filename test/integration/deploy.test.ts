import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentStatus } from '../../src/core/deployment.js';
import { startDeployFleet, type DeployFleet } from '../helpers/deploy-fleet.js';
import { freePort, waitFor } from '../helpers/procs.js';
import { ECHO } from '../helpers/specs.js';
import { startTraffic } from '../helpers/traffic.js';

/**
 * Deployments end to end: a real controller, three workload agents on their own loopback
 * addresses, a proxy agent, and echo-server replicas behind a route, with real clients counting
 * every failed connection while the deployment rolls.
 */
describe('deployments', () => {
  let fleet: DeployFleet;
  let api: DeployFleet['api'];
  let webPort: number;
  let echoPort: number;

  const yard = (...args: string[]) => fleet.yard(...args);
  const file = (name: string, text: string) => fleet.file(name, text);
  const status = (name: string) => fleet.status(name);
  const hostsOf = (s: DeploymentStatus) => s.replicas.map((r) => r.serverId);
  const settled = (name: string, count: number, version?: number, timeoutMs = 30_000) =>
    waitFor(
      `${name}: ${count} healthy replicas${version ? ` of v${version}` : ''}`,
      async () => {
        const s = await status(name);
        const ok =
          s.replicas.length === count &&
          s.replicas.every((r) => r.healthy && (version === undefined || r.version === version));
        return ok ? s : undefined;
      },
      timeoutMs,
      200,
    );
  const deploymentYaml = (extra: { version?: string; command?: string; replicas?: number; update?: string }) =>
    [
      'name: web',
      `replicas: ${extra.replicas ?? 3}`,
      'template:',
      `  command: ${extra.command ?? process.execPath}`,
      `  args: [${ECHO}]`,
      `  env: {VERSION: ${extra.version ?? 'v1'}}`,
      `  ports: [${echoPort}]`,
      `update: ${extra.update ?? '{maxSurge: 1, maxUnavailable: 0, healthTimeout: 4s, autoRevert: true}'}`,
      `route: {name: web, port: ${echoPort}}`,
      '',
    ].join('\n');

  beforeAll(async () => {
    webPort = await freePort();
    echoPort = await freePort();
    fleet = await startDeployFleet('deploy');
    api = fleet.api;
    // The route the deployment backs: created by the operator, its backends then follow the replicas.
    const route = {
      name: 'web',
      listen: { server: 'edge', port: webPort, host: '127.0.0.1' },
      backends: [{ address: `127.0.0.1:${await freePort()}`, weight: 100 }],
      healthCheck: { kind: 'tcp', interval: '200ms', timeout: '200ms', unhealthyAfter: 2, healthyAfter: 1 },
      holdTimeout: '10s',
      drainTimeout: '3s',
    };
    const r = await yard('route', 'apply', '-f', file('web.json', JSON.stringify(route)));
    expect(r.code, r.stderr).toBe(0);
  }, 90_000);

  afterAll(async () => {
    await fleet?.stop();
  });

  it('refuses a bad file with its line and field, before asking the controller', async () => {
    const r = await yard(
      'deploy',
      'apply',
      '-f',
      file('bad.yaml', deploymentYaml({}).replace('replicas: 3', 'replicas: -2')),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/deployment file .*bad\.yaml, line 2 \(replicas\): must not be negative/);
  });

  it('applies a deployment: three replicas spread over three hosts, the route following them', async () => {
    const r = await yard('deploy', 'apply', '-f', file('web.yaml', deploymentYaml({})));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/web: created/);
    const s = await settled('web', 3, 1);
    expect(new Set(hostsOf(s)).size).toBe(3);
    const routes = (await api.call(api.client.listRoutes, {})).routes;
    const backends = routes
      .find((x) => x.route?.name === 'web')!
      .route!.backends.map((b) => b.workload)
      .sort();
    expect(backends).toEqual(s.replicas.map((x) => x.workload).sort());
    const t = startTraffic(`127.0.0.1:${webPort}`, { clients: 2, maxRequests: 30 });
    await waitFor('30 answers', () => (t.report().ok + t.report().failed >= 30 ? true : undefined), 20_000);
    const report = await t.stop();
    expect(report.failed, report.failures.join('\n')).toBe(0);
    expect(report.byVersion).toEqual({ v1: 30 });
    const listed = await yard('deploy', 'list');
    expect(listed.stdout).toMatch(/^web\s+v1\s+3\s+3\s+3\s+web\s+off$/m);
  });

  it('rolls a new version one replica at a time while the route keeps serving', async () => {
    const traffic = startTraffic(`127.0.0.1:${webPort}`, { clients: 3 });
    try {
      const r = await yard('deploy', 'apply', '-f', file('web.yaml', deploymentYaml({ version: 'v2' })));
      expect(r.stdout).toMatch(/web: updated: v2 rolls out/);
      await settled('web', 3, 2, 60_000);
      await waitFor('v2 answering', () => ((traffic.report().byVersion.v2 ?? 0) > 20 ? true : undefined), 20_000);
    } finally {
      const report = await traffic.stop();
      console.log(
        `rolling update: ${report.ok} answered, ${report.failed} failed, by version ${JSON.stringify(report.byVersion)}`,
      );
      expect(report.failed, report.failures.join('\n')).toBe(0);
    }
    const audit = (await api.call(api.client.listAudit, { limit: 200 })).entries;
    expect(audit.some((e) => e.who === 'deployments' && /replaced by v2/.test(e.target))).toBe(true);
  }, 90_000);

  it('reverts a new version that fails its health gate', async () => {
    // It exits at once: never running, never healthy.
    const r = await yard(
      'deploy',
      'apply',
      '-f',
      file('web.yaml', deploymentYaml({ version: 'v3', command: '/bin/false' })),
    );
    expect(r.code, r.stderr).toBe(0);
    const s = await settled('web', 3, 4, 60_000);
    expect(s.deployment?.template?.command).toBe(process.execPath);
    const audit = (await api.call(api.client.listAudit, { limit: 200 })).entries;
    const revert = audit.find((e) => e.action === 'deployment.revert');
    expect(revert?.target).toMatch(
      /v3 failed its health gate: .* not healthy within 4s; reverting to the template of v2 as v4/,
    );
  }, 90_000);

  it('restarts rolling: every replica replaced by a new version of the same template, the route serving', async () => {
    const traffic = startTraffic(`127.0.0.1:${webPort}`, { clients: 2 });
    try {
      const r = await yard('deploy', 'restart', 'web');
      expect(r.stdout).toMatch(/^web: v5 rolls out; `yard deploy status web --watch` follows it$/m);
      const s = await settled('web', 3, 5, 60_000);
      expect(new Set(hostsOf(s)).size).toBe(3);
    } finally {
      const report = await traffic.stop();
      expect(report.failed, report.failures.join('\n')).toBe(0);
    }
  }, 90_000);
});
