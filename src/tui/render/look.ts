import type { Glyphs } from '../glyphs.js';
import type { Theme } from '../theme.js';

/** How things are drawn: colours and the glyph set, passed together to every renderer. */
export interface Look {
  readonly theme: Theme;
  readonly glyphs: Glyphs;
}
