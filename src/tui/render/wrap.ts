import { printable } from '../../core/printable.js';

/**
 * Breaks plain text into lines of at most `width` columns, at spaces where it can. A control
 * character counts as the escape it is drawn as (a message from an agent may hold one).
 */
export function wrapText(text: string, width: number): string[] {
  if (width <= 0) return [];
  const lines: string[] = [];
  let line = '';
  for (const word of printable(text)
    .split(/\s+/)
    .filter((w) => w !== '')) {
    let rest = word;
    while ([...rest].length > width) {
      if (line) lines.push(line);
      line = '';
      lines.push([...rest].slice(0, width).join(''));
      rest = [...rest].slice(width).join('');
    }
    if (line === '') line = rest;
    else if ([...line].length + 1 + [...rest].length <= width) line += ` ${rest}`;
    else {
      lines.push(line);
      line = rest;
    }
  }
  if (line) lines.push(line);
  return lines;
}
