import { YardError } from './errors.js';

/** Two-way names for proto enums: the operator's word ↔ the wire value. */
export function names<V extends number>(pairs: [V, string][], fallback: string) {
  const byValue = new Map(pairs);
  const byName = new Map(pairs.map(([v, n]) => [n, v]));
  return {
    name: (v: V): string => byValue.get(v) ?? fallback,
    value(name: string, what: string): V {
      const v = byName.get(name);
      if (v === undefined)
        throw new YardError('INVALID_ARGUMENT', `${what} "${name}" is not one of ${[...byName.keys()].join(', ')}`);
      return v;
    },
    all: pairs.map(([, n]) => n),
  };
}
