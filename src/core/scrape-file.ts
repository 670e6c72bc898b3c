import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { fieldName, lineOf } from './config.js';
import { parseDuration } from './duration.js';
import { YardError } from './errors.js';
import { scrapeTargetSchema, type ScrapeTargetInput } from './schema/scrape.js';

/**
 * The controller's scrape file (`yard controller --scrape-file FILE`): the hosts it polls besides
 * those added with `yard scrape add`.
 *
 *   scrape:
 *     - name: gpu-07
 *       url: http://10.0.0.7:9100/metrics     # node_exporter
 *       gpu: http://10.0.0.7:9400/metrics     # DCGM exporter or nvidia_gpu_exporter (optional)
 *       interval: 10s                         # optional, default 5s
 */
const entry = z
  .strictObject({
    name: z.string(),
    url: z.string(),
    gpu: z.string().optional(),
    interval: z
      .string()
      .transform((text, ctx) => {
        try {
          return parseDuration(text, 'interval');
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return 0;
        }
      })
      .optional(),
  })
  .transform(({ name, url, gpu, interval }) => ({ name, url, gpuUrl: gpu ?? '', intervalMs: interval ?? 0 }))
  .pipe(scrapeTargetSchema as z.ZodType<ScrapeTargetInput, ScrapeTargetInput>);

const fileSchema = z.strictObject({ scrape: z.array(entry).default([]) }).superRefine(({ scrape }, ctx) => {
  const seen = new Set<string>();
  for (const [i, t] of scrape.entries()) {
    if (seen.has(t.name))
      ctx.addIssue({ code: 'custom', path: ['scrape', i, 'name'], message: `"${t.name}" is named twice` });
    seen.add(t.name);
  }
});

const FILE_FIELD: Record<string | number, string> = { gpuUrl: 'gpu', intervalMs: 'interval' };

/** Parses the scrape file's text; errors name the file, the line and the field. */
export function parseScrapeFile(text: string, file: string): ScrapeTargetInput[] {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax)
    throw new YardError(
      'INVALID_CONFIG',
      `scrape file ${file}, line ${counter.linePos(syntax.pos[0]).line}: not valid YAML: ${syntax.message.split('\n')[0]}`,
      { file },
    );
  const result = fileSchema.safeParse(doc.toJS() ?? {});
  if (result.success) return result.data.scrape;
  const issue = result.error.issues[0]!;
  // Checked as `yard scrape add` takes them: said as the file names them.
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol').map((p) => FILE_FIELD[p] ?? p);
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    path.push(issue.keys[0]!);
    message = `unknown field: ${path.length === 1 ? 'the file takes scrape' : 'a target takes name, url, gpu and interval'}`;
  } else if (/received undefined$/.test(message)) message = 'is required';
  const line = lineOf(doc, counter, path);
  throw new YardError(
    'INVALID_CONFIG',
    `scrape file ${file}${line === undefined ? '' : `, line ${line}`} (${fieldName(path)}): ${message}`,
    { file, field: fieldName(path) },
  );
}
