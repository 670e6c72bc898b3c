import { homedir } from 'node:os';
import { join } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { YardError } from './errors.js';
import { configSchema, type Config, type ConfigRules } from './schema/config.js';

/**
 * The operator's config file: $XDG_CONFIG_HOME/switchyard/config.yaml, else
 * ~/.config/switchyard/config.yaml. Everything in it is optional; flags win over it.
 *
 *   theme: light                 # a shipped theme or a path (relative to this file)
 *   glyphs: blocks               # braille | blocks | ascii
 *   readonly: true               # no actions from this dashboard
 *   keys:                        # action name: the keys that do it (replacing the defaults)
 *     quit: [q, C-q]
 *   wall:
 *     rotate: 20s
 *     views: [fleet, migrations]
 *     theme: high-contrast
 */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME?.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'switchyard', 'config.yaml');
}

export interface LoadedConfig {
  readonly file: string;
  readonly config: Config;
  /** "line 4" for a field (["keys", "quit"]), for errors found after parsing; "" when unknown. */
  where(path: readonly (string | number)[]): string;
}

/** The line of the deepest node of `path` the document has: the key's line for a map entry. */
export function lineOf(doc: Document, counter: LineCounter, path: readonly (string | number)[]): number | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === segment);
      if (!pair) break;
      offset = (pair.key as { range?: [number, number, number] }).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      offset = (node as { range?: [number, number, number] } | undefined)?.range?.[0] ?? offset;
    } else {
      break;
    }
  }
  return offset === undefined ? undefined : counter.linePos(offset).line;
}

/** "keys.quit[1]" */
export function fieldName(path: readonly PropertyKey[]): string {
  return (
    path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('') ||
    '(top level)'
  );
}

/**
 * Parses and validates the config file's text. Errors name the file, the line and the field,
 * and say what would be right: `config file F, line 4 (keys.quit[1]): "ctrl+q" is not a key: …`.
 */
export function parseConfig(text: string, file: string, rules: ConfigRules): LoadedConfig {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = counter.linePos(syntax.pos[0]).line;
    throw new YardError(
      'INVALID_CONFIG',
      `config file ${file}, line ${line}: not valid YAML: ${syntax.message.split('\n')[0]}`,
      { file },
    );
  }
  const data: unknown = doc.toJS() ?? {};
  const result = configSchema(rules).safeParse(data);
  const where = (path: readonly (string | number)[]): string => {
    const line = lineOf(doc, counter, path);
    return line === undefined ? '' : `line ${line}`;
  };
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      path.push(issue.keys[0]!);
      message = `unknown field: ${path.length === 1 ? 'the file takes theme, glyphs, readonly, keys and wall' : 'wall takes rotate, views and theme'}`;
    }
    const line = where(path);
    throw new YardError(
      'INVALID_CONFIG',
      `config file ${file}${line ? `, ${line}` : ''} (${fieldName(path)}): ${message}`,
      { file, field: fieldName(path) },
    );
  }
  return { file, config: result.data, where };
}
