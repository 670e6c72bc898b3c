// "Did you mean": the command an operator most likely meant when yargs refuses a word.

/** The first word of each command ("migrate <workload>" → "migrate"), without yargs' "$0". */
export function commandNames(commands: readonly { command: string | readonly string[] }[]): string[] {
  return commands
    .flatMap((c) => [c.command].flat())
    .map((c) => c.split(' ')[0]!)
    .filter((n) => n !== '$0');
}

/** Edits (insert, delete, substitute) from `a` to `b`. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next.push(Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    row = next;
  }
  return row[b.length]!;
}

/**
 * For a refusal "Unknown argument(s): w1, w2" of the command line `args`: the command the first
 * unknown word was most likely meant to be, when it stands where a command goes (no command
 * before it) and is at most two edits from one. A refused --flag is never taken for a command.
 */
export function suggestCommand(message: string, args: readonly string[], names: readonly string[]): string | undefined {
  const unknown = /^Unknown arguments?: (.+)$/.exec(message)?.[1]?.split(', ') ?? [];
  const at = args.findIndex((a) => unknown.includes(a));
  if (at < 0 || args.slice(0, at).some((a) => names.includes(a))) return undefined;
  const word = args[at]!;
  const best = names.map((name) => ({ name, d: distance(word, name) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= Math.min(2, Math.floor(word.length / 2)) ? best.name : undefined;
}
