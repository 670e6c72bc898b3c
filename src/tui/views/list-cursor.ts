/**
 * A selection kept by key (a name, an id) rather than by position, so it follows its row
 * when the list refreshes or the filter changes. An unknown key falls back to the first row.
 */
export class ListCursor<T> {
  constructor(
    private readonly keyOf: (row: T) => string,
    private readonly get: () => string | undefined,
    private readonly set: (key: string | undefined) => void,
  ) {}

  index(rows: readonly T[]): number {
    const key = this.get();
    const at = key === undefined ? -1 : rows.findIndex((row) => this.keyOf(row) === key);
    if (at >= 0) return at;
    this.set(rows[0] === undefined ? undefined : this.keyOf(rows[0]));
    return rows.length > 0 ? 0 : -1;
  }

  /** Selects row `index`, clamped into the list. */
  select(rows: readonly T[], index: number): void {
    const row = rows[Math.min(Math.max(index, 0), rows.length - 1)];
    if (row !== undefined) this.set(this.keyOf(row));
  }

  selected(rows: readonly T[]): T | undefined {
    const at = this.index(rows);
    return at >= 0 ? rows[at] : undefined;
  }
}
