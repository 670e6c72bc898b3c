import { z } from 'zod';
import { parseDuration } from '../duration.js';

// The operator's config file (src/core/config.ts reads it and says where a problem is).

/** What the dashboard accepts, which only it knows: its action names, key grammar and views. */
export interface ConfigRules {
  readonly actions: readonly string[];
  /** The key in canonical form, or undefined when `text` is not a key. */
  readonly key: (text: string) => string | undefined;
  /** What to say about a string that is not a key. */
  readonly keyHelp: string;
  readonly views: readonly string[];
  readonly glyphs: readonly string[];
}

export interface Config {
  theme?: string;
  glyphs?: string;
  readonly?: boolean;
  /** Action name → keys, in canonical form. */
  keys: Record<string, string[]>;
  wall: { rotateMs?: number; views?: string[]; theme?: string };
}

/** The config file's schema, for the dashboard's `rules`: what it returns is the Config, every field as the dashboard uses it. */
export function configSchema(rules: ConfigRules) {
  const list = (items: readonly string[]) => items.join(', ');
  const key = z.string().transform((text, ctx) => {
    const canonical = rules.key(text);
    if (canonical === undefined) ctx.addIssue({ code: 'custom', message: `"${text}" is not a key: ${rules.keyHelp}` });
    return canonical ?? text;
  });
  const keys = z.record(z.string(), z.array(key).min(1, 'give at least one key')).superRefine((record, ctx) => {
    for (const name of Object.keys(record)) {
      if (!rules.actions.includes(name))
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `"${name}" is not an action: use one of ${list(rules.actions)}`,
        });
    }
  });
  const duration = z.string().transform((text, ctx) => {
    try {
      return parseDuration(text, 'rotate');
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return 0;
    }
  });
  const view = z.string().refine((v) => rules.views.includes(v), {
    error: (issue) => `"${String(issue.input)}" is not a view a wall can show: use ${list(rules.views)}`,
  });
  return z
    .strictObject({
      theme: z.string().min(1).optional(),
      glyphs: z
        .string()
        .refine((g) => rules.glyphs.includes(g), {
          error: (issue) => `"${String(issue.input)}" is not a glyph set: use ${list(rules.glyphs)}`,
        })
        .optional(),
      readonly: z.boolean().optional(),
      keys: keys.optional(),
      wall: z
        .strictObject({
          rotate: duration.optional(),
          views: z.array(view).min(1, 'name at least one view').optional(),
          theme: z.string().min(1).optional(),
        })
        .optional(),
    })
    .transform(
      ({ wall, keys, ...rest }): Config => ({
        ...rest,
        keys: keys ?? {},
        wall: {
          ...(wall?.rotate ? { rotateMs: wall.rotate } : {}),
          ...(wall?.views ? { views: wall.views } : {}),
          ...(wall?.theme ? { theme: wall.theme } : {}),
        },
      }),
    );
}
