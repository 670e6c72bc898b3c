import { describe, expect, it } from 'vitest';
import { errorMessage } from '../../src/core/errors.js';
import { formatLogLine } from '../../src/core/log.js';
import { findControl, printable, printableJson, printableLines } from '../../src/core/printable.js';
import { toServiceError } from '../../src/core/rpc/errors.js';
import { YardError } from '../../src/core/errors.js';
import { agentIdentity } from '../../src/cli/options.js';
import { labelsSchema, parseLabels } from '../../src/core/schema/labels.js';
import { locationSchema, serverNameSchema, validate } from '../../src/core/validate.js';

const HOSTILE = 'evil\x1b[2J\x1b]0;pwned\x07';

describe('printable', () => {
  it('shows C0, DEL, C1 and bidi controls as escapes and leaves printable text alone', () => {
    expect(printable(HOSTILE)).toBe('evil\\x1b[2J\\x1b]0;pwned\\x07');
    expect(printable('a\x7fb\x9b31mc\u202ed\r\n\t')).toBe('a\\x7fb\\x9b31mc\\u202ed\\x0d\\x0a\\x09');
    expect(printable('gpu-a100 {red-fg}ü 日本 ✓')).toBe('gpu-a100 {red-fg}ü 日本 ✓');
    expect(printable(printable(HOSTILE))).toBe(printable(HOSTILE));
  });

  it('keeps the line breaks of text the CLI built, and JSON stays the same value', () => {
    expect(printableLines('one\x1b[31m\ntwo\x9b')).toBe('one\\x1b[31m\ntwo\\x9b');
    const json = printableJson({ name: 'a\x1b\x9b\u2066b' });
    expect(json).toBe('{"name":"a\\u001b\\u009b\\u2066b"}');
    expect(JSON.parse(json)).toEqual({ name: 'a\x1b\x9b\u2066b' });
    // Indented, as `--json` prints: the layout's line breaks stay, so it still parses.
    const pretty = printableJson([{ name: 'x\ny\x9b' }], 2);
    expect(pretty.split('\n')).toHaveLength(5);
    expect(JSON.parse(pretty)).toEqual([{ name: 'x\ny\x9b' }]);
  });

  it('says which character and where', () => {
    expect(findControl('ok name')).toBeUndefined();
    expect(findControl('日本\x1b[2J')).toBe('U+001B at 3');
  });
});

describe('the one rule at the edges', () => {
  it('refuses control characters in server names, label values and locations, naming the field', () => {
    expect(() => validate(serverNameSchema, HOSTILE, '--name')).toThrow(
      /--name: --name holds a control character \(U\+001B at 5\), which a terminal would act on/,
    );
    expect(() => validate(labelsSchema, { rack: 'r1\x9b2J' }, 'labels')).toThrow(
      /labels: rack holds a control character \(U\+009B at 3\)/,
    );
    expect(() => validate(locationSchema, 'dc1\u202erow4', 'location')).toThrow(
      /holds a control character \(U\+202E at 4\)/,
    );
    expect(() => parseLabels('gpu=a100,note=\x07')).toThrow(/labels: note holds a control character/);
  });

  it('echoes a hostile label key escaped, never raw', () => {
    let message = '';
    try {
      validate(labelsSchema, { 'k\x1b[2J': 'v' }, 'labels');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('k\\x1b[2J');
    expect(message).not.toContain('\x1b');
  });

  it('still takes names and labels an operator would write', () => {
    expect(validate(serverNameSchema, 'gpu-a100-01 (rack 12) ü', '--name')).toBe('gpu-a100-01 (rack 12) ü');
    expect(validate(serverNameSchema, 'x'.repeat(64), '--name')).toHaveLength(64);
    expect(() => validate(serverNameSchema, 'x'.repeat(65), '--name')).toThrow(/must be at most 64 characters/);
    expect(parseLabels('gpu=a100,zone=us-east-1a')).toEqual({ gpu: 'a100', zone: 'us-east-1a' });
  });
});

describe('log lines', () => {
  it('say what an error, a gRPC status object or any object says, never [object Object]', () => {
    const status = toServiceError(new YardError('SUPERSEDED', 'a newer session for server s1 replaced this one'));
    expect(errorMessage(status)).toBe('a newer session for server s1 replaced this one');
    const line = formatLogLine('info', 'controller', 'agent session ended', {
      why: status,
      err: new Error('connect ECONNREFUSED'),
      detail: { code: 7, reason: 'no' },
      n: 3,
    });
    expect(line).not.toContain('[object Object]');
    expect(line).toContain('why="a newer session for server s1 replaced this one"');
    expect(line).toContain('err="connect ECONNREFUSED"');
    expect(line).toContain('detail="{\\"code\\":7,\\"reason\\":\\"no\\"}"');
    expect(line).toContain(' n=3');
  });

  it('escape what agents sent, in the message and in the fields', () => {
    const line = formatLogLine('warn', 'controller', `agent ${HOSTILE} refused`, { name: HOSTILE, c1: 'x\x9by' });
    expect(line.slice(0, -1)).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    expect(line).toContain('agent evil\\x1b[2J\\x1b]0;pwned\\x07 refused');
    expect(line).toContain('name="evil\\u001b[2J\\u001b]0;pwned\\u0007"');
    expect(line).toContain('c1="x\\x9by"');
  });
});

describe('`yard agent` identity flags', () => {
  it('refuses a host name too long to be a server name, saying so and suggesting --name', () => {
    const fqdn = `gpu-a100-0042.${'rack-12.'.repeat(6)}example.com`;
    expect(() => agentIdentity({ labels: '' }, fqdn)).toThrow(
      `this host's name "${fqdn}" (${fqdn.length} characters) cannot be a server's name, which is at most 64 printable characters: pass --name, e.g. --name gpu-a100-0042`,
    );
    expect(agentIdentity({ labels: '' }, 'gpu-a100-0042.example.com')).toEqual({
      name: undefined,
      labels: {},
      location: undefined,
    });
    expect(agentIdentity({ name: 'gpu1', labels: '' }, fqdn).name).toBe('gpu1');
  });
});
