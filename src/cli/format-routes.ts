import type { EndpointState, RouteState } from '../core/domain.js';
import { YardError } from '../core/errors.js';
import { printableLines } from '../core/printable.js';
import { routeToFile } from '../core/schema/route-file.js';
import { backendLabel, policies, type Backend, type Route, type RouteChange } from '../core/route.js';
import { bytesShort, trafficText } from '../core/format/bytes.js';
import { endpointName, listenText } from '../core/format/endpoints.js';
import { countText, UNKNOWN } from '../core/format/numbers.js';
import { durationText, settingText } from '../core/format/time.js';
import { healthWord } from '../core/format/words.js';
import { PromotionState } from '../gen/switchyard/v1/control.js';
import { table, type ServerNames } from './format-workloads.js';
import type { PromotionUpdate } from './replies.js';

/** The characters the route output draws with: block bars and arrows, or plain ASCII without a UTF-8 locale. */
export interface RouteGlyphs {
  full: string;
  empty: string;
  arrow: string;
  ellipsis: string;
}
export const UNICODE_GLYPHS: RouteGlyphs = { full: '█', empty: '░', arrow: '→', ellipsis: '…' };
export const ASCII_GLYPHS: RouteGlyphs = { full: '#', empty: '.', arrow: '->', ellipsis: '...' };

const BAR_CELLS = 10;
const iso = (ms: number) => (ms ? new Date(ms).toISOString() : null);

/** "██████░░░░  60": a 10-cell bar and the weight (0-100). */
export function weightBar(weight: number, g: RouteGlyphs = UNICODE_GLYPHS): string {
  const cells = Math.round(Math.min(100, Math.max(0, weight)) / (100 / BAR_CELLS));
  return `${g.full.repeat(cells)}${g.empty.repeat(BAR_CELLS - cells)} ${String(weight).padStart(3)}`;
}

/** Where a route listens, with its proxy named as ListServers names it. */
function listenOf(s: RouteState, names: ServerNames): string {
  return listenText(s.route.listen, names.get(s.serverId));
}

function nameOf(s: EndpointState, names: ServerNames): string {
  return endpointName(s, (id) => names.get(id));
}

/** The stable JSON shape of one endpoint in `yard routes --json`. */
function endpointJson(s: EndpointState) {
  const e = s.endpoint;
  const st = s.stats;
  return {
    key: e.key,
    backend: e.backend,
    address: e.address,
    version: e.version,
    weight: e.weight,
    draining: e.draining,
    held: e.held,
    health: healthWord(s),
    checksPassing: st?.checksPassing ?? false,
    active: st?.active ?? 0,
    total: st?.total ?? 0,
    bytesIn: st?.bytesIn ?? 0,
    bytesOut: st?.bytesOut ?? 0,
    connectErrors: st?.connectErrors ?? 0,
    bytesPerSec: s.bytesPerSec,
  };
}

/** The stable JSON shape of `yard routes --json`: the table as a route file writes it, then how it is going. */
export function routeJson(s: RouteState) {
  return {
    ...routeToFile(s.route),
    revision: s.route.revision,
    serverId: s.serverId,
    listening: s.listening,
    error: s.error || null,
    promotion: s.promotion || null,
    reportedAt: iso(s.statsMs),
    active: s.active,
    total: s.total,
    refused: s.refused,
    heldTotal: s.heldTotal,
    heldMaxMs: s.heldMaxMs,
    bytesPerSec: s.bytesPerSec,
    endpoints: s.endpoints.map(endpointJson),
  };
}

function routeHeader(s: RouteState, names: ServerNames): string {
  const r = s.route;
  return `${r.name}  listen ${listenOf(s, names)}  ${policies.name(r.policy)}  rev ${r.revision}  ${trafficText(s.bytesPerSec)}  active ${s.active}  refused ${s.refused}`;
}

/** Why an endpoint takes no traffic, or takes it differently, one line each. */
function endpointNotes(s: EndpointState, names: ServerNames): string[] {
  const name = nameOf(s, names);
  const notes: string[] = [];
  if (s.endpoint.detail) notes.push(`${name}: ${s.endpoint.detail}`);
  if (s.endpoint.held) notes.push(`${name}: held: new connections wait while it is cut over`);
  const health = healthWord(s);
  if (s.stats?.healthDetail && !['healthy', 'standby', 'draining'].includes(health))
    notes.push(`${name}: ${health}: ${s.stats.healthDetail}`);
  return notes;
}

function indent(text: string): string[] {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`.trimEnd());
}

function routeBlock(s: RouteState, names: ServerNames, g: RouteGlyphs): string[] {
  const lines = [routeHeader(s, names)];
  if (s.error) lines.push(`  error: ${s.error}`);
  else if (!s.listening)
    lines.push(`  not listening yet: waiting for the proxy on ${listenOf(s, names)} to apply rev ${s.route.revision}`);
  if (s.promotion) lines.push(`  ${s.promotion}`);
  if (s.heldTotal)
    lines.push(
      `  held ${s.heldTotal} new connections while a backend was cut over (longest wait ${durationText(s.heldMaxMs)})`,
    );
  if (s.endpoints.length === 0) return [...lines, '  no endpoints resolved yet'];
  const rows = [['BACKEND', 'VERSION', 'WEIGHT', 'HEALTH', 'ACTIVE', 'TOTAL', 'IN', 'OUT', 'ERRORS']];
  for (const e of s.endpoints) {
    const j = endpointJson(e);
    rows.push([
      nameOf(e, names),
      j.version || UNKNOWN,
      weightBar(j.weight, g),
      j.health,
      String(j.active),
      countText(j.total),
      bytesShort(j.bytesIn),
      bytesShort(j.bytesOut),
      countText(j.connectErrors),
    ]);
  }
  lines.push(...indent(table(rows)));
  lines.push(...s.endpoints.flatMap((e) => endpointNotes(e, names)).map((n) => `  ${n}`));
  return lines;
}

/** `yard routes`: one block per service, a row per endpoint. */
export function routesText(routes: RouteState[], names: ServerNames, g: RouteGlyphs = UNICODE_GLYPHS): string {
  if (routes.length === 0) return 'no routes yet: `yard route apply -f web.yaml` creates one\n';
  return printableLines(routes.map((s) => routeBlock(s, names, g).join('\n')).join('\n\n')) + '\n';
}

/** A backend's identity across two tables: the same workload and port, or the same address. */
function backendKey(b: Backend): string {
  return b.workload ? `workload ${b.workload}:${b.port}` : `address ${b.address}`;
}

function backendName(b: Backend): string {
  return b.workload && b.port ? `${b.workload}:${b.port}` : backendLabel(b);
}

/** What a weight change is called: the version label, else the backend. */
function weightLabel(b: Backend): string {
  return b.version || backendName(b);
}

function timeoutChange(what: string, a: number, b: number, g: RouteGlyphs): string[] {
  return a === b ? [] : [`${what} ${settingText(a)}${g.arrow}${settingText(b)}`];
}

function backendChanges(before: Route, after: Route, g: RouteGlyphs): string[] {
  const old = new Map(before.backends.map((b) => [backendKey(b), b]));
  const kept = new Set<string>();
  const parts: string[] = [];
  const weights = new Set<string>();
  const drains: string[] = [];
  for (const b of after.backends) {
    const a = old.get(backendKey(b));
    if (!a) {
      parts.push(`added ${backendName(b)} (${b.version ? `${b.version}, ` : ''}weight ${b.weight})`);
      continue;
    }
    kept.add(backendKey(b));
    if (a.version !== b.version)
      parts.push(`${backendName(b)} version ${a.version || UNKNOWN}${g.arrow}${b.version || UNKNOWN}`);
    if (a.weight !== b.weight) weights.add(`${weightLabel(b)} ${a.weight}${g.arrow}${b.weight}`);
    if (a.drain !== b.drain)
      drains.push(b.drain ? `drained ${weightLabel(b)}` : `${weightLabel(b)} takes traffic again`);
  }
  for (const a of before.backends) {
    if (!kept.has(backendKey(a))) parts.push(`removed ${backendName(a)}${a.version ? ` (${a.version})` : ''}`);
  }
  return [...parts, ...(weights.size ? [`weight ${[...weights].join(', ')}`] : []), ...[...new Set(drains)]];
}

/** One line on how a table changed: listen, backends added or removed, weights, drains, settings. */
export function describeChange(before: Route, after: Route, g: RouteGlyphs = UNICODE_GLYPHS): string {
  const parts: string[] = [];
  const listenBefore = listenText(before.listen);
  const listenAfter = listenText(after.listen);
  if (listenBefore !== listenAfter) parts.push(`listen ${listenBefore}${g.arrow}${listenAfter}`);
  parts.push(...backendChanges(before, after, g));
  if (before.policy !== after.policy)
    parts.push(`policy ${policies.name(before.policy)}${g.arrow}${policies.name(after.policy)}`);
  if (JSON.stringify(before.healthCheck) !== JSON.stringify(after.healthCheck)) parts.push('health check changed');
  parts.push(...timeoutChange('hold timeout', before.holdTimeoutMs, after.holdTimeoutMs, g));
  parts.push(...timeoutChange('drain timeout', before.drainTimeoutMs, after.drainTimeoutMs, g));
  return parts.length ? parts.join('; ') : 'backend drain deadlines changed';
}

/** Two tables are the same when a route file would write them the same (revision and author aside). */
function sameTable(a: Route, b: Route): boolean {
  const file = (r: Route) => JSON.stringify([routeToFile(r), r.backends.map((x) => x.drainTimeoutMs)]);
  return file(a) === file(b);
}

/** What `yard route apply` did, or would do, to one service. */
export interface ApplyOutcome {
  service: string;
  kind: 'created' | 'updated' | 'unchanged';
  revision: number;
  before?: Route;
  after: Route;
}

/** Outcomes from the controller's answer: a change per route it created or updated, none for one it left alone. */
export function appliedOutcomes(
  requested: Route[],
  res: { changes: RouteChange[]; routes: RouteState[] },
): ApplyOutcome[] {
  return requested.map((r) => {
    const change = res.changes.find((c) => c.service === r.name);
    const status = res.routes.find((s) => s.route.name === r.name);
    const after = change?.after ?? status?.route ?? r;
    if (!change) return { service: r.name, kind: 'unchanged', revision: after.revision, after };
    return {
      service: r.name,
      kind: change.before ? 'updated' : 'created',
      revision: after.revision,
      before: change.before,
      after,
    };
  });
}

/** Outcomes of a dry run, worked out against the tables the controller has now. */
export function plannedOutcomes(requested: Route[], current: RouteState[]): ApplyOutcome[] {
  const now = new Map(current.map((s) => [s.route.name, s.route]));
  return requested.map((r) => {
    const before = now.get(r.name);
    if (!before) return { service: r.name, kind: 'created', revision: 0, after: r };
    return {
      service: r.name,
      kind: sameTable(before, r) ? 'unchanged' : 'updated',
      revision: before.revision,
      before,
      after: r,
    };
  });
}

function backendCount(r: Route): string {
  return `${r.backends.length} backend${r.backends.length === 1 ? '' : 's'}`;
}

/** `yard route apply`: one line per route, e.g. "web: updated (rev 4): weight blue 100→80, green 0→20". */
export function applyText(outcomes: ApplyOutcome[], dryRun: boolean, g: RouteGlyphs = UNICODE_GLYPHS): string {
  const lines = outcomes.map((o) => {
    if (o.kind === 'unchanged') return `${o.service}: unchanged`;
    const diff = o.before
      ? describeChange(o.before, o.after, g)
      : `listen ${listenText(o.after.listen)}, ${backendCount(o.after)}`;
    if (dryRun) return `${o.service}: would ${o.kind === 'created' ? 'create' : 'update'}: ${diff}`;
    return o.kind === 'created'
      ? `${o.service}: created (rev ${o.revision}): ${diff}`
      : `${o.service}: updated (rev ${o.revision}): ${diff}`;
  });
  if (dryRun) lines.push('dry run: the controller checked the file; nothing was changed');
  return printableLines(lines.join('\n')) + '\n';
}

/** A table's backends with their weight bars, as `weight`, `rollback` and `drain` leave them. */
function backendsText(route: Route, g: RouteGlyphs = UNICODE_GLYPHS): string {
  const rows = route.backends.map((b) => [
    backendName(b),
    b.version || UNKNOWN,
    weightBar(b.weight, g),
    b.drain ? 'drained' : '',
  ]);
  return indent(table([['BACKEND', 'VERSION', 'WEIGHT', ''], ...rows])).join('\n') + '\n';
}

function changedTable(
  change: RouteChange | undefined,
  service: string,
  what: string,
): { before?: Route; after: Route } {
  if (!change?.after)
    throw new YardError(
      'RPC_FAILED',
      `the controller answered ${what} ${service} without the table it left; \`yard routes\` shows it now`,
    );
  return { before: change.before, after: change.after };
}

/** `yard route weight` and `yard route rollback`: what changed, then the table now. */
export function changeText(
  change: RouteChange | undefined,
  service: string,
  verb: string,
  g: RouteGlyphs = UNICODE_GLYPHS,
): string {
  const { before, after } = changedTable(change, service, verb);
  const diff = before ? describeChange(before, after, g) : `listen ${listenText(after.listen)}, ${backendCount(after)}`;
  return printableLines(`${service}: ${verb} (rev ${after.revision}): ${diff}\n`) + backendsText(after, g);
}

/** `yard route drain`: which backends drain and how long their open connections may last. */
export function drainText(
  change: RouteChange | undefined,
  service: string,
  word: string,
  g: RouteGlyphs = UNICODE_GLYPHS,
): string {
  const { before, after } = changedTable(change, service, 'drain');
  const was = new Map((before?.backends ?? []).map((b) => [backendKey(b), b.drain]));
  const drained = after.backends.filter((b) => b.drain && !was.get(backendKey(b)));
  if (drained.length === 0)
    return (
      printableLines(`${service}: ${word} was already draining (rev ${after.revision})\n`) + backendsText(after, g)
    );
  const named = drained.map((b) => (b.version ? `${backendName(b)} (${b.version})` : backendName(b))).join(', ');
  const deadline = settingText(drained[0]!.drainTimeoutMs || after.drainTimeoutMs);
  return (
    printableLines(
      `${service}: draining ${named}: no new connections; open ones may last up to ${deadline} (rev ${after.revision})\n`,
    ) + backendsText(after, g)
  );
}

/** `yard route delete`. */
export function deleteText(change: RouteChange | undefined, service: string): string {
  const before = change?.before;
  if (!before) return printableLines(`deleted ${service}\n`);
  return printableLines(
    `deleted ${service}: its proxy no longer listens on ${listenText(before.listen)} (it had ${backendCount(before)})\n`,
  );
}

/** The whole table's weights in one line, "blue 100→80, green 0→20", for the change history. */
export function weightSummary(
  before: Route | undefined,
  after: Route | undefined,
  g: RouteGlyphs = UNICODE_GLYPHS,
): string {
  const line = (r: Route) =>
    [...new Set(r.backends.map((b) => `${weightLabel(b)} ${b.weight}${b.drain ? ' (drained)' : ''}`))].join(', ');
  if (!before && after) return `created: ${line(after)}`;
  if (before && !after) return `deleted (was ${line(before)})`;
  if (!before || !after) return UNKNOWN;
  const old = new Map(before.backends.map((b) => [backendKey(b), b]));
  const now = new Set(after.backends.map(backendKey));
  const parts = after.backends.map((b) => {
    const a = old.get(backendKey(b));
    const w =
      a === undefined
        ? `${UNKNOWN}${g.arrow}${b.weight}`
        : a.weight === b.weight
          ? `${b.weight}`
          : `${a.weight}${g.arrow}${b.weight}`;
    return `${weightLabel(b)} ${w}${b.drain ? ' (drained)' : ''}`;
  });
  const gone = before.backends
    .filter((b) => !now.has(backendKey(b)))
    .map((b) => `${weightLabel(b)} ${b.weight}${g.arrow}${UNKNOWN}`);
  return [...new Set([...parts, ...gone])].join(', ');
}

/** Local wall-clock time, as `yard audit` prints it. */
function when(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** `yard route history`: newest first, as the controller sends them. */
export function historyText(changes: RouteChange[], g: RouteGlyphs = UNICODE_GLYPHS): string {
  if (changes.length === 0) return 'no route changes recorded yet\n';
  const rows = changes.map((c) => [
    when(c.atMs),
    c.who || UNKNOWN,
    c.service,
    c.action,
    c.note || UNKNOWN,
    weightSummary(c.before, c.after, g),
  ]);
  return table([['WHEN', 'WHO', 'SERVICE', 'ACTION', 'NOTE', 'WEIGHTS'], ...rows]);
}

/** The stable JSON shape of `yard route history --json`. */
export function historyJson(c: RouteChange) {
  return {
    at: new Date(c.atMs).toISOString(),
    who: c.who,
    service: c.service,
    action: c.action,
    note: c.note,
    revision: c.after?.revision ?? null,
    before: c.before ? routeToFile(c.before) : null,
    after: c.after ? routeToFile(c.after) : null,
  };
}

/** What one message of a promotion stream prints, whether a step's line is left open, and the exit code once it ends. */
export interface PromotionProgress {
  text: string;
  open: boolean;
  exitCode?: number;
}

/**
 * A step's line stays open ("step 2/4: green 25% …") until the next message says whether its
 * health gate passed: the next step or DONE means it did, REVERTED that it did not.
 */
export function promotionProgress(
  p: PromotionUpdate,
  version: string,
  open: boolean,
  g: RouteGlyphs = UNICODE_GLYPHS,
): PromotionProgress {
  const rev = ` (rev ${p.route.route.revision})`;
  const passed = open ? ' health gate passed\n' : '';
  switch (p.state) {
    case PromotionState.PROMOTION_STATE_STEP:
      return { text: `${passed}step ${p.step}/${p.steps}: ${version} ${p.percent}% ${g.ellipsis}`, open: true };
    case PromotionState.PROMOTION_STATE_DONE:
      return { text: `${passed}done: ${version} takes all the traffic${rev}\n`, open: false, exitCode: 0 };
    case PromotionState.PROMOTION_STATE_REVERTED:
      return {
        text: printableLines(
          `${open ? ' health gate failed\n' : ''}reverted: ${p.message || 'the health gate failed'}; the table is back where the promotion started${rev}\n`,
        ),
        open: false,
        exitCode: 1,
      };
    default:
      return { text: '', open };
  }
}
