import type { DeploymentReplica, DeploymentStatus } from '../../core/deployment.js';
import { workloadStates } from '../../core/workload.js';
import type { BindingSpec } from '../keymap.js';
import type { Column } from '../render/columns.js';
import type { Look } from '../render/look.js';
import { workloadMark } from '../render/states.js';
import { INPUT_MAX } from '../route-keys.js';
import { Table } from '../widgets/table.js';
import { ListCursor } from './list-cursor.js';
import { ListView } from './list-view.js';
import { onView, type ViewContext, type ViewName, type ViewUi } from './view.js';

/** A row: a deployment, or one of its replicas under it. */
export interface DeploymentRow {
  readonly key: string;
  readonly status: DeploymentStatus;
  readonly replica?: DeploymentReplica;
}

const nameOf = (s: DeploymentStatus) => s.deployment?.name ?? '';

function deploymentColumns(ctx: ViewContext, look: Look): Column<DeploymentRow>[] {
  const { theme, glyphs } = look;
  const server = (id: string) => ctx.source.get(id)?.server.name ?? id;
  return [
    {
      title: 'NAME',
      width: 18,
      flex: 1,
      priority: 1,
      cell: (r) => (r.replica ? `  ${r.replica.workload}` : nameOf(r.status)),
    },
    {
      title: 'VERSION',
      width: 7,
      priority: 2,
      cell: (r) => `v${r.replica ? r.replica.version : (r.status.deployment?.version ?? 0)}`,
    },
    {
      title: 'REPLICAS',
      width: 22,
      priority: 1,
      cell: (r) =>
        r.replica
          ? server(r.replica.serverId)
          : `${r.status.running}/${r.status.desired} running ${r.status.healthy} ok`,
      colour: (r) => (r.replica || r.status.healthy >= r.status.desired ? theme.levels.ok : theme.levels.warn),
    },
    {
      title: 'STATE',
      width: 13,
      priority: 2,
      cell: (r) => (r.replica ? workloadMark(r.replica.state, look).text : ''),
      colour: (r) => (r.replica ? workloadMark(r.replica.state, look).colour : theme.states.unknown),
    },
    {
      title: 'HEALTHY',
      width: 7,
      priority: 3,
      cell: (r) => (r.replica ? (r.replica.healthy ? glyphs.ok : glyphs.fail) : ''),
      colour: (r) => (r.replica?.healthy ? theme.levels.ok : theme.levels.crit),
    },
    {
      title: 'ROUTE / LAST DECISION',
      width: 24,
      flex: 2,
      priority: 4,
      cell: (r) => (r.replica ? '' : [r.status.deployment?.route?.name, r.status.message].filter(Boolean).join(': ')),
    },
  ];
}

/**
 * Every deployment with its replicas under it: desired, running and healthy, the version, where
 * each replica runs and how it is; + and - scale by one, = asks for a count, C-r restarts (rolling).
 */
export class DeploymentsView extends ListView<DeploymentRow> {
  readonly name = 'deployments' as const;
  private readonly table: Table<DeploymentRow>;
  private readonly columns: Column<DeploymentRow>[];

  constructor(ctx: ViewContext) {
    super(
      ctx,
      new ListCursor(
        (r) => r.key,
        () => ctx.state.selectedDeployment,
        (key) => {
          ctx.state.selectedDeployment = key;
        },
      ),
    );
    const look: Look = { theme: ctx.theme, glyphs: ctx.glyphs };
    this.table = new Table(ctx.parent, look);
    this.columns = deploymentColumns(ctx, look);
    ctx.observe((change) => {
      if (change.kind === 'deployment' || change.kind === 'server') ctx.markDirty(this);
    });
  }

  /** By deployment name or route, and a replica also by its name, server or state. */
  protected current(): readonly DeploymentRow[] {
    const { source } = this.ctx;
    const rows = source
      .deployments()
      .flatMap((status): DeploymentRow[] => [
        { key: `d:${nameOf(status)}`, status },
        ...status.replicas.map((replica) => ({ key: `r:${replica.workload}`, status, replica })),
      ]);
    return this.matching(rows, (r) => ({
      names: [
        nameOf(r.status),
        r.status.deployment?.route?.name ?? '',
        ...(r.replica
          ? [
              r.replica.workload,
              source.get(r.replica.serverId)?.server.name ?? '',
              workloadStates.name(r.replica.state),
            ]
          : []),
      ],
      labels: {},
    }));
  }

  protected draw(width: number, height: number): void {
    this.table.show(
      { left: 0, top: 0, width, height },
      this.tableData(
        `Deployments (${this.ctx.source.deployments().length})`,
        this.columns,
        'No deployments yet: yard deploy apply -f app.yaml creates one.',
        'deployment',
      ),
    );
  }

  protected clear(): void {
    this.table.hide();
  }

  status(): string {
    const all = this.ctx.source.deployments();
    const short = all.filter((s) => s.healthy < s.desired).length;
    const n = `${all.length} deployment${all.length === 1 ? '' : 's'}`;
    return short === 0 ? `${n}, all healthy` : `${short} of ${n} short of healthy`;
  }

  breadcrumb(): string {
    return 'Deployments';
  }

  /** Enter on a replica: its server. */
  open(): ViewName | undefined {
    const r = this.selectedRow()?.replica;
    if (!r) return undefined;
    this.ctx.state.selectedId = r.serverId;
    return 'server';
  }

  /** The deployment of the selected row (a replica's is its deployment's). */
  selectedDeployment(): DeploymentStatus | undefined {
    return this.selectedRow()?.status;
  }
}

/** Asks, then scales `s` to `to`, reporting in the footer. */
function scaleTo(ui: ViewUi, s: DeploymentStatus, to: number): void {
  const name = nameOf(s);
  const a = s.deployment?.autoscale;
  if (a && (to < a.min || to > a.max)) {
    ui.notify(`${name} autoscales between ${a.min} and ${a.max}: its count stays within them.`);
    return;
  }
  if (to < 0) return;
  ui.ask(`Scale ${name} from ${s.desired} to ${to} replicas?`, () =>
    ui.report(
      () => ui.source.actions.scaleDeployment(name, to),
      (now) => `${name}: ${now.desired} replicas wanted, ${now.running} running`,
    ),
  );
}

const onDeployment = (act: (s: DeploymentStatus, ui: ViewUi) => void) =>
  onView(DeploymentsView, (view, ui) => {
    const s = view.selectedDeployment();
    if (s) act(s, ui);
    else ui.notify('No deployment here: `yard deploy apply -f app.yaml` creates one.');
  });

export const DEPLOYMENTS_KEYS: readonly BindingSpec[] = [
  {
    name: 'down',
    keys: ['j', 'down'],
    description: 'select the row below (a deployment, or one of its replicas)',
    when: ['deployments'],
    action: (a) => a.move(0, 1),
  },
  {
    name: 'up',
    keys: ['k', 'up'],
    description: 'select the row above (a deployment, or a replica)',
    when: ['deployments'],
    action: (a) => a.move(0, -1),
  },
  {
    name: 'open',
    keys: ['enter'],
    description: 'open the server of the selected replica',
    when: ['deployments'],
    hint: 'server',
    action: (a) => a.open(),
  },
  {
    name: 'scale-up',
    keys: ['+'],
    description: 'one replica more for the selected deployment (asks first)',
    when: ['deployments'],
    hint: 'scale',
    mutates: true,
    action: onDeployment((s, ui) => scaleTo(ui, s, s.desired + 1)),
  },
  {
    name: 'scale-down',
    keys: ['-'],
    description: 'one replica fewer for the selected deployment (asks first)',
    when: ['deployments'],
    mutates: true,
    action: onDeployment((s, ui) => scaleTo(ui, s, s.desired - 1)),
  },
  {
    name: 'scale-to',
    keys: ['='],
    description: 'set the replica count of the selected deployment (asks for it, then to confirm)',
    when: ['deployments'],
    mutates: true,
    action: onDeployment((s, ui) =>
      ui.input({
        label: `replicas of ${nameOf(s)} (now ${s.desired})`,
        text: '',
        accept: (text) => {
          if (!/^\d{1,4}$/.test(text.trim()) || text.length > INPUT_MAX) {
            ui.notify(`The count must be a whole number, not "${text}": = asks again.`);
            return;
          }
          scaleTo(ui, s, Number(text.trim()));
        },
      }),
    ),
  },
  {
    name: 'restart-deployment',
    keys: ['C-r'],
    description: 'rolling restart of the selected deployment: new replicas replace the old, health-gated (asks first)',
    when: ['deployments'],
    hint: 'restart',
    mutates: true,
    action: onDeployment((s, ui) => {
      const name = nameOf(s);
      ui.ask(`Restart ${name}? Each replica is replaced by a new one, a few at a time, each healthy first.`, () =>
        ui.report(
          () => ui.source.actions.restartDeployment(name),
          (now) => `${name}: v${now.deployment?.version} rolls out`,
        ),
      );
    }),
  },
];
