import { textFilter, type Filterable } from '../filter.js';
import type { BindingSpec, KeyContext } from '../keymap.js';
import type { Column } from '../render/columns.js';
import type { TableData } from '../widgets/table.js';
import type { ListCursor } from './list-cursor.js';
import type { View, ViewContext, ViewName } from './view.js';

/** Border and header line of a table: the rows a page holds are the height less these. */
const CHROME_ROWS = 3;

/**
 * A view that pages through rows with a selection kept by key (Workloads, Migrations, Routes,
 * Events): j/k move it, PgUp/PgDn a page, g/G the ends. A view says which rows the filter lets
 * through and how to draw them; the paging is here, once.
 */
export abstract class ListView<T> implements View {
  abstract readonly name: ViewName;
  protected rows: readonly T[] = [];
  /** Rows one page holds, from the last frame. */
  protected pageRows = 1;
  protected visible = false;

  constructor(
    protected readonly ctx: ViewContext,
    protected readonly cursor: ListCursor<T>,
  ) {}

  /** The rows the view's filter lets through, now. */
  protected abstract current(): readonly T[];
  /** Draws the rows into the view's area. */
  protected abstract draw(width: number, height: number): void;
  /** Hides the view's widgets. */
  protected abstract clear(): void;
  abstract status(): string;
  abstract breadcrumb(): string;
  abstract open(): ViewName | undefined;

  update(): void {
    if (!this.visible) return;
    const { width, height } = this.ctx.size();
    this.rows = this.current();
    this.pageRows = Math.max(1, height - CHROME_ROWS);
    this.draw(width, height);
  }

  show(): void {
    this.visible = true;
    this.ctx.markDirty(this);
  }

  hide(): void {
    this.visible = false;
    this.clear();
  }

  context(): KeyContext {
    return this.name;
  }

  move(_dx: number, dy: number): void {
    this.select(this.cursor.index(this.rows) + dy);
  }

  page(delta: number): void {
    this.select(this.cursor.index(this.rows) + delta * this.pageRows);
  }

  edge(which: 'first' | 'last'): void {
    this.select(which === 'first' ? 0 : this.rows.length - 1);
  }

  back(): boolean {
    return false;
  }

  /** The `/` filter in force in this view ("" for none). */
  protected filter(): string {
    return this.ctx.state.filters[this.name];
  }

  /** The rows of `all` the view's `/` filter lets through, matched on what `fields` says of each. */
  protected matching(all: readonly T[], fields: (row: T) => Filterable): readonly T[] {
    const text = this.filter();
    if (text === '') return all;
    const keep = textFilter(text);
    return all.filter((row) => keep(fields(row)));
  }

  /**
   * The rows as a table shows them (a wall without a selection), and what it says when there
   * are none: `none` with no filter, else that nothing matches (the `noun`, "workload").
   */
  protected tableData(label: string, columns: readonly Column<T>[], none: string, noun: string): TableData<T> {
    const filter = this.filter();
    return {
      label,
      columns,
      rows: this.rows,
      selected: this.ctx.wall ? -1 : this.cursor.index(this.rows),
      focused: !this.ctx.wall,
      empty: filter === '' ? none : `No ${noun} matches "${filter}". Esc clears the filter.`,
    };
  }

  /** The selected row of the rows the filter lets through now (not those of the last frame). */
  protected selectedRow(): T | undefined {
    return this.cursor.selected(this.current());
  }

  private select(index: number): void {
    this.cursor.select(this.rows, index);
    this.ctx.markDirty(this);
  }
}

/** The keys every paged view shares (`where`): the ends, a page at a time, and the filter. */
export function listBindings(where: readonly KeyContext[]): BindingSpec[] {
  return [
    {
      name: 'first',
      keys: ['g', 'home'],
      description: 'select the first row',
      when: where,
      action: (a) => a.edge('first'),
    },
    {
      name: 'last',
      keys: ['S-g', 'end'],
      description: 'select the last row',
      when: where,
      action: (a) => a.edge('last'),
    },
    { name: 'page-down', keys: ['pagedown'], description: 'next page of rows', when: where, action: (a) => a.page(1) },
    { name: 'page-up', keys: ['pageup'], description: 'previous page of rows', when: where, action: (a) => a.page(-1) },
    {
      name: 'filter',
      keys: ['/'],
      description: 'filter rows by name, server, state or label',
      when: where,
      hint: 'filter',
      action: (a) => a.startFilter(),
    },
    {
      name: 'clear-filter',
      keys: ['escape'],
      description: 'clear the filter and show every row',
      when: where,
      action: (a) => a.clearFilter(),
    },
  ];
}
