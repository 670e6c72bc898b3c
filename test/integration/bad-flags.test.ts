import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runYard, tempDir } from '../helpers/procs.js';

// "Bad flags exit 2" (README): every flag value the CLI refuses, whichever command, with the flag named.
describe('a bad flag value', () => {
  beforeAll(assertBuilt);

  const cases: [string, string[], RegExp][] = [
    [
      'a duration that is not one',
      ['controller', '--grace', 'abc'],
      /^yard: --grace "abc" is not a duration: use e\.g\. 500ms, 1s, 2m$/m,
    ],
    [
      'a metrics address that is not HOST:PORT',
      ['controller', '--metrics-listen', '9100'],
      /^yard: --metrics-listen "9100" is not HOST:PORT \(e\.g\. 127\.0\.0\.1:50050\)$/m,
    ],
    ['a zero heartbeat', ['controller', '--heartbeat', '0s'], /^yard: --heartbeat "0s" must be greater than zero$/m],
    ['a zero verify window', ['controller', '--verify', '0'], /^yard: --verify "0" must be greater than zero$/m],
    [
      'a negative size',
      ['controller', '--max-checkpoint', '-1'],
      /^yard: --max-checkpoint "-1" is not a size: use e\.g\. 512MiB or 4GiB$/m,
    ],
    [
      'a CPU limit that is no number',
      ['controller', '--cpu-limit', 'lots'],
      /^yard: --cpu-limit is not a number: give a percentage from 1 to 100$/m,
    ],
    [
      'a heartbeat budget of none',
      ['controller', '--heartbeat-budget', '0'],
      /^yard: --heartbeat-budget 0 must be a whole number of heartbeats a second, from 1 to 1000000$/m,
    ],
    [
      'a heartbeat budget that is no number',
      ['controller', '--heartbeat-budget', 'lots'],
      /^yard: --heartbeat-budget is not a number: give heartbeats a second, e\.g\. 2000$/m,
    ],
    [
      'a port over 65535 to listen on',
      ['controller', '--listen', '127.0.0.1:99999'],
      /^yard: --listen "127\.0\.0\.1:99999" is not HOST:PORT/m,
    ],
    [
      'a port over 65535 to dial',
      ['servers', '--controller', '127.0.0.1:99999'],
      /^yard: --controller "127\.0\.0\.1:99999" is not HOST:PORT/m,
    ],
    ['port 0 to dial', ['servers', '--controller', '127.0.0.1:0'], /^yard: --controller "127\.0\.0\.1:0" has port 0/m],
    [
      "an agent's controller port over 65535",
      ['agent', '--controller', '127.0.0.1:99999'],
      /^yard: --controller "127\.0\.0\.1:99999" is not HOST:PORT/m,
    ],
    [
      "an agent's zero interval",
      ['agent', '--controller', '127.0.0.1:1', '--interval', '0ms'],
      /^yard: --interval "0ms" must be greater than zero$/m,
    ],
    [
      'an agent label that is not key=value',
      ['agent', '--controller', '127.0.0.1:1', '--labels', 'gpu'],
      /^yard: label "gpu" is not key=value \(e\.g\. --labels gpu=a100,rack=r12\)$/m,
    ],
    [
      'an agent label that is not key=value, in the --label spelling',
      ['agent', '--controller', '127.0.0.1:1', '--label', 'gpu'],
      /^yard: label "gpu" is not key=value \(e\.g\. --label gpu=a100,rack=r12\)$/m,
    ],
    [
      'a checkpoint signal no workload can catch',
      ['run', '--on', 'h1', '--checkpoint-signal', 'stop', '--', 'sleep', '1'],
      /^yard: --checkpoint-signal SIGSTOP cannot be caught, so a workload could never save its state on it: use e\.g\. SIGUSR1$/m,
    ],
    [
      'a variable the agent sets',
      ['run', '--on', 'h1', '--env', 'SWITCHYARD_ADDRESS=10.0.0.1', '--', 'sleep', '1'],
      /^yard: --env SWITCHYARD_ADDRESS: the agent sets it, as it sets every SWITCHYARD_\* variable \(the checkpoint contract\): use another name$/m,
    ],
    [
      'a checkpoint timeout over an hour',
      ['run', '--on', 'h1', '--checkpoint-timeout', '90m', '--', 'sleep', '1'],
      /^yard: --checkpoint-timeout "90m" is longer than an hour, the most a migration waits for a workload to save$/m,
    ],
    [
      'a workload name no workload can have',
      ['stop', 'no/slash'],
      /^yard: workload name "no\/slash" is not valid: use up to 63 letters, digits, \. _ - \(starting with a letter or digit\)$/m,
    ],
    [
      'an advertise address that is no IP',
      ['agent', '--controller', '127.0.0.1:1', '--advertise', 'here'],
      /^yard: --advertise "here" is not an IP address/m,
    ],
    [
      'a transfer address for peers with no port to dial',
      ['agent', '--controller', '127.0.0.1:1', '--transfer-advertise', '10.0.0.5:0'],
      /^yard: --transfer-advertise "10\.0\.0\.5:0" has port 0, which no peer can dial/m,
    ],
    [
      'a transfer address for peers that is no HOST:PORT',
      ['agent', '--controller', '127.0.0.1:1', '--transfer-advertise', 'nowhere'],
      /^yard: --transfer-advertise "nowhere" is not HOST:PORT/m,
    ],
  ];

  it.each(cases)('%s exits 2 and names the flag', async (_, args, message) => {
    const r = await runYard([...args, '--data-dir', tempDir()]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
  });

  it('an agent name the controller would refuse at every reconnect is refused at start, with the rule', async () => {
    const fqdn = `${'node-0042.'.repeat(6)}example.com`;
    const r = await runYard(['agent', '--controller', '127.0.0.1:1', '--data-dir', tempDir(), '--name', fqdn]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`yard: --name "${fqdn}" must be at most 64 characters\n`);
  });
});
