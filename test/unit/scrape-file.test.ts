import { describe, expect, it } from 'vitest';
import { parseScrapeFile } from '../../src/core/scrape-file.js';
import { parseScrapeTarget } from '../../src/core/schema/scrape.js';

const FILE = '/etc/switchyard/scrape.yaml';
const lines = (...l: string[]) => `${l.join('\n')}\n`;

describe('the scrape file (yard controller --scrape-file)', () => {
  it('reads targets with their GPU exporters and intervals', () => {
    const text = lines(
      'scrape:',
      '  - name: gpu-07',
      '    url: http://10.0.0.7:9100/metrics',
      '    gpu: http://10.0.0.7:9400/metrics',
      '    interval: 10s',
      '  - name: edge-1',
      '    url: https://edge-1.example:9100/metrics',
    );
    expect(parseScrapeFile(text, FILE)).toEqual([
      {
        name: 'gpu-07',
        url: 'http://10.0.0.7:9100/metrics',
        gpuUrl: 'http://10.0.0.7:9400/metrics',
        intervalMs: 10_000,
      },
      { name: 'edge-1', url: 'https://edge-1.example:9100/metrics', gpuUrl: '', intervalMs: 0 },
    ]);
    expect(parseScrapeFile('', FILE)).toEqual([]);
  });

  it.each([
    [
      'a URL that is not one',
      lines('scrape:', '  - name: a', '    url: 10.0.0.7:9100'),
      `scrape file ${FILE}, line 3 (scrape[0].url): "10.0.0.7:9100" is not a URL: give e.g. http://10.0.0.5:9100/metrics`,
    ],
    [
      'a misspelt field',
      lines('scrape:', '  - name: a', '    url: http://h:9100/metrics', '    gpus: http://h:9400/metrics'),
      `scrape file ${FILE}, line 4 (scrape[0].gpus): unknown field: a target takes name, url, gpu and interval`,
    ],
    [
      'an unknown top-level field',
      lines('scrape:', '  - name: a', '    url: http://h:9100/metrics', 'targets: []'),
      `scrape file ${FILE}, line 4 (targets): unknown field: the file takes scrape`,
    ],
    [
      'a missing URL',
      lines('scrape:', '  - name: a', '  - name: b', '    url: http://h:9100/metrics'),
      `scrape file ${FILE}, line 2 (scrape[0].url): is required`,
    ],
    [
      'a name used twice',
      lines(
        'scrape:',
        '  - name: a',
        '    url: http://h:9100/metrics',
        '  - name: a',
        '    url: http://g:9100/metrics',
      ),
      `scrape file ${FILE}, line 4 (scrape[1].name): "a" is named twice`,
    ],
    [
      'an interval that is not a duration',
      lines('scrape:', '  - name: a', '    url: http://h:9100/metrics', '    interval: often'),
      `scrape file ${FILE}, line 4 (scrape[0].interval): interval "often" is not a duration: use e.g. 500ms, 1s, 2m`,
    ],
    [
      'an interval too short',
      lines('scrape:', '  - name: a', '    url: http://h:9100/metrics', '    interval: 100ms'),
      `scrape file ${FILE}, line 4 (scrape[0].interval): must be between 1 s and 300 s`,
    ],
    ['text that is not YAML', 'scrape: [\n', `scrape file ${FILE}, line 2: not valid YAML:`],
  ])('refuses %s, naming the line and field', (_, text, message) => {
    expect(() => parseScrapeFile(text, FILE)).toThrow(message);
  });
});

describe('a scrape target from `yard scrape add`', () => {
  it.each([
    [{ name: 'a b', url: 'http://h/metrics' }, 'scrape target name: may only hold letters, digits and . _ -'],
    [{ name: 'a', url: 'ftp://h/metrics' }, 'scrape target url: "ftp://h/metrics" must be an http:// or https:// URL'],
    [{ name: 'a', url: 'http://u:p@h/metrics' }, 'scrape target url: "h": credentials in the URL are not kept'],
    [{ name: 'a', url: 'http://h/metrics', gpuUrl: 'nope' }, 'scrape target gpuUrl: "nope" is not a URL'],
    [
      { name: 'a', url: 'http://h/metrics', intervalMs: 500 },
      'scrape target intervalMs: must be between 1 s and 300 s',
    ],
  ])('refuses %o with INVALID_ARGUMENT naming the field', (input, message) => {
    expect(() => parseScrapeTarget({ gpuUrl: '', intervalMs: 0, ...input })).toThrow(message);
  });
});
