import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { errorMessage } from '../errors.js';

/** A duration in a file an operator writes: "500ms", "2m", or a number of milliseconds; milliseconds after parsing. */
export const durationSchema = z.union([z.string(), z.number().int().positive()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  try {
    return parseDuration(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: errorMessage(err).replace(/^duration /, '') });
    return z.NEVER;
  }
});
