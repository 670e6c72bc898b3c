import { migrationDone, migrationPhases, phaseWords, strategies, type Migration } from '../../core/workload.js';
import type { Column } from '../render/columns.js';
import type { Look } from '../render/look.js';
import { serverName } from '../render/migration.js';
import { Table } from '../widgets/table.js';
import { TextBox } from '../widgets/text-box.js';
import { ListCursor } from './list-cursor.js';
import { ListView } from './list-view.js';
import { migrationColumns } from './migration-columns.js';
import { migrationDetails } from './migration-details.js';
import type { BindingSpec } from '../keymap.js';
import { onView, type ViewContext, type ViewName, type ViewUi } from './view.js';

/** Live migrations and their history, newest first; Enter shows one in detail, c cancels a live one. */
export class MigrationsView extends ListView<Migration> {
  readonly name = 'migrations' as const;
  private readonly look: Look;
  private readonly table: Table<Migration>;
  private readonly details: TextBox;
  private readonly columns: Column<Migration>[];
  private showingDetails = false;

  constructor(ctx: ViewContext) {
    super(
      ctx,
      new ListCursor(
        (m) => m.id,
        () => ctx.state.selectedMigration,
        (id) => {
          ctx.state.selectedMigration = id;
        },
      ),
    );
    this.look = { theme: ctx.theme, glyphs: ctx.glyphs };
    this.table = new Table(ctx.parent, this.look);
    this.details = new TextBox(ctx.parent, this.look);
    this.columns = migrationColumns({ source: ctx.source, look: this.look, now: ctx.now });
  }

  /** By id, workload, either server, phase, strategy or error. */
  protected current(): readonly Migration[] {
    const { source } = this.ctx;
    return this.matching(source.migrations(), (m) => ({
      names: [
        m.id,
        m.workload,
        serverName(source, m.sourceServerId),
        serverName(source, m.targetServerId),
        migrationPhases.name(m.phase),
        strategies.name(m.strategy),
        m.error,
      ],
      labels: {},
    }));
  }

  protected draw(width: number, height: number): void {
    const rect = { left: 0, top: 0, width, height };
    const selected = this.cursor.index(this.rows);
    const m = this.rows[selected];
    if (this.showingDetails && m) {
      this.table.hide();
      this.details.show(
        rect,
        `Migration ${m.id}`,
        migrationDetails(m, this.ctx.source, this.look, this.ctx.now(), width),
      );
      return;
    }
    this.showingDetails = false;
    this.details.hide();
    const live = this.ctx.source.migrations().filter((x) => !migrationDone(x.phase)).length;
    this.table.show(
      rect,
      this.tableData(
        `Migrations (${live} live, ${this.rows.length} shown)`,
        this.columns,
        'No migrations yet: v on a workload starts one.',
        'migration',
      ),
    );
  }

  protected clear(): void {
    this.table.hide();
    this.details.hide();
  }

  override context(): 'migrations' | 'details' {
    return this.showingDetails ? 'details' : 'migrations';
  }

  status(): string {
    const total = this.ctx.source.migrations().length;
    if (this.filter() !== '') return `${this.rows.length} of ${total} match`;
    const at = this.cursor.index(this.rows);
    return at >= 0 ? `${at + 1} of ${total}` : '';
  }

  breadcrumb(): string {
    const m = this.showingDetails ? this.cursor.selected(this.rows) : undefined;
    return m ? `Migrations ${this.ctx.glyphs.crumb} ${m.id.slice(0, 8)}` : 'Migrations';
  }

  /** Enter: the selected migration in detail, in place. */
  open(): ViewName | undefined {
    this.showingDetails = this.cursor.selected(this.rows) !== undefined;
    this.ctx.markDirty(this);
    return undefined;
  }

  override back(): boolean {
    if (!this.showingDetails) return false;
    this.showingDetails = false;
    this.ctx.markDirty(this);
    return true;
  }

  selectedMigration(): Migration | undefined {
    return this.selectedRow();
  }
}

/** Asks, then cancels a live migration; one that ended says so instead. */
function cancel(ui: ViewUi, m: Migration | undefined): void {
  if (!m) return;
  const short = m.id.slice(0, 8);
  if (migrationDone(m.phase)) {
    ui.notify(`Migration ${short} already ended (${phaseWords(m.phase)}): only a live one can be cancelled.`);
    return;
  }
  const from = serverName(ui.source, m.sourceServerId);
  ui.ask(
    `Cancel migration ${short} of ${m.workload} (${phaseWords(m.phase)})? It rolls back and ${m.workload} keeps running on ${from}.`,
    () => {
      ui.report(
        () => ui.source.actions.cancelMigration(m.id),
        (done) => `Migration ${short}: ${phaseWords(done.phase)}.`,
      );
    },
  );
}

/** The Migrations view's keys, in the list and in a migration's details. */
export const MIGRATIONS_KEYS: readonly BindingSpec[] = [
  {
    name: 'down',
    keys: ['j', 'down'],
    description: 'select the migration below',
    when: ['migrations', 'details'],
    action: (a) => a.move(0, 1),
  },
  {
    name: 'up',
    keys: ['k', 'up'],
    description: 'select the migration above',
    when: ['migrations', 'details'],
    action: (a) => a.move(0, -1),
  },
  {
    name: 'open',
    keys: ['enter'],
    description: 'show the selected migration in detail',
    when: ['migrations'],
    hint: 'details',
    action: (a) => a.open(),
  },
  {
    name: 'cancel-migration',
    keys: ['c'],
    description: 'cancel the selected live migration (asks first)',
    when: ['migrations', 'details'],
    hint: 'cancel',
    mutates: true,
    action: onView(MigrationsView, (v, ui) => cancel(ui, v.selectedMigration())),
  },
  {
    name: 'back',
    keys: ['escape'],
    description: 'back to the list of migrations',
    when: ['details'],
    hint: 'back',
    action: (a) => a.back(),
  },
];
