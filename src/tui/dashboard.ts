import blessed from 'blessed';
import { errorMessage } from '../core/errors.js';
import type { FleetChange, FleetSource } from '../core/fleet.js';
import { Chrome } from './chrome.js';
import { commandTable } from './commands.js';
import { glyphSet, type GlyphSetName } from './glyphs.js';
import { KEYMAP, refusal, roleShortfall, type Keymap, type Restrictions } from './keymap.js';
import type { Look } from './render/look.js';
import { Rotation } from './rotation.js';
import { RenderScheduler, type Part } from './scheduler.js';
import { colourCount, createScreen, screenText } from './screen.js';
import { Shell } from './shell.js';
import { chooseGlyphs, noColorRequested } from './terminal.js';
import { fitToTerminal, loadTheme, withoutColour, type Theme } from './theme.js';
import { newUiState, VIEW_NAMES, VIEWS, type ViewName } from './views/index.js';
import type { View, ViewContext } from './views/view.js';
import { HelpOverlay, helpLines, type HelpContent } from './widgets/help-overlay.js';
import { LogsPane } from './widgets/logs-pane.js';
import { Question } from './widgets/question.js';
import { Wizard } from './wizard/wizard.js';

/** A wall display's pages: these views in turn (each page of each), one every `rotateMs`. */
export interface WallOptions {
  rotateMs: number;
  views: readonly ViewName[];
}

export interface DashboardOptions {
  source: FleetSource;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** Force the size (headless use: tests, recordings); a TTY reports its own. */
  cols?: number;
  rows?: number;
  /** No colours at all; left out, the NO_COLOR environment variable decides. */
  noColor?: boolean;
  /** true: ASCII glyphs only; false: the full set. Left out, `glyphs` or the terminal decides. */
  ascii?: boolean;
  /** The glyph set; left out, the locale and TERM decide (see chooseGlyphs). */
  glyphs?: GlyphSetName;
  title?: string;
  /** A theme name ("default", "light", "high-contrast", "mono") or path to a theme file. */
  theme?: string;
  /** Refuse every key and command that changes the fleet, and say so. */
  readonly?: boolean;
  /** The bindings in force (the config file's); left out, the defaults. */
  keymap?: Keymap;
  /** A wall display: read-only, no prompts, big cards, pages turning on a timer. */
  wall?: WallOptions;
  /** Called after the screen is destroyed and the terminal restored, on q or C-c. */
  onQuit?: () => void;
  /** What quitting would stop for others (a shared controller), asked before quitting; undefined: nothing. */
  quitQuestion?: () => string | undefined;
}

export interface Dashboard {
  screen: blessed.Widgets.Screen;
  stop(): void;
  renderNow(): void;
  /** The screen as plain text, one line per row, trailing blanks trimmed. */
  screenText(): string;
}

function glyphsFor(opts: DashboardOptions): GlyphSetName {
  if (opts.glyphs) return opts.glyphs;
  if (opts.ascii !== undefined) return opts.ascii ? 'ascii' : 'braille';
  return chooseGlyphs(process.env);
}

/** Opens the full-screen fleet dashboard on `source`; q or C-c quits. */
export function startDashboard(opts: DashboardOptions): Dashboard {
  const { source, wall } = opts;
  const glyphs = glyphSet(glyphsFor(opts));
  const noColor = opts.noColor ?? noColorRequested(process.env);
  const keymap = opts.keymap ?? KEYMAP;
  const limits: Restrictions = { readonly: opts.readonly === true || wall !== undefined, wall: wall !== undefined };
  // Load the theme before taking over the terminal, so a bad theme file errors cleanly.
  const loaded = loadTheme(opts.theme);
  const screen = createScreen({ ...opts, ascii: !glyphs.unicode });
  const fit = (t: Theme): Theme => (noColor ? withoutColour(t) : fitToTerminal(t, colourCount(screen)));
  // One theme object for the whole dashboard: `:theme` replaces its colours in place, and
  // widgets read them at every update.
  const theme = { ...fit(loaded) };
  const look: Look = { theme, glyphs };

  let disconnectedSince: number | undefined;
  let stopped = false;
  const scheduler = new RenderScheduler(() => screen.render());
  const observers: ((change: FleetChange) => void)[] = [];
  const content = blessed.box({ parent: screen, top: 1, bottom: 1, left: 0, right: 0 });
  const ctx: ViewContext = {
    screen,
    parent: content,
    source,
    theme,
    glyphs,
    state: newUiState(),
    wall: wall !== undefined,
    size: () => ({ width: Number(screen.width), height: Math.max(0, Number(screen.height) - chrome.rows()) }),
    now: () => Date.now(),
    markDirty: (part) => scheduler.markDirty(part),
    observe: (listener) => observers.push(listener),
  };
  const views = new Map<ViewName, View>(VIEW_NAMES.map((name) => [name, VIEWS[name].create(ctx)]));
  const commands = commandTable(VIEWS);
  const keys = keymap.filter((b) => !refusal(b, limits));
  // Made at each opening: an attached dashboard learns its role after it dials.
  const helpContent = (): HelpContent => ({
    keymap: keys,
    views: VIEWS,
    commands: limits.wall ? [] : commands.filter((c) => !(c.mutates && limits.readonly)),
    off: (action) => roleShortfall(action, source.role),
    ...(limits.wall
      ? {
          note: 'Wall display: read-only, no prompts; the pages turn on their own. Space pauses or resumes them, n (or → or PgDn) turns to the next page now. q quits.',
        }
      : limits.readonly
        ? { note: 'Read-only: keys and commands that change the fleet are off.' }
        : keys.some((b) => roleShortfall(b, source.role))
          ? {
              note: `Your role is ${source.role}: the keys and commands greyed out change the fleet, and need the operator role; an admin grants it.`,
            }
          : {}),
  });
  const help = new HelpOverlay(screen, look, (width) => helpLines(helpContent(), look, width));
  // Inside the view area, so they lie over it (and go with it when the terminal is too small).
  const question = new Question(content, look, ctx.size);
  const wizard = new Wizard({
    parent: content,
    source,
    look,
    now: ctx.now,
    size: ctx.size,
    changed: () => scheduler.markDirty(overlays),
    ask: (text, onYes) => question.ask(text, onYes),
  });
  const logs = new LogsPane(content, look, ctx.size, () => scheduler.markDirty(overlays));
  // One part for all, drawn in this order, so a question always lies over the wizard and the logs.
  const overlays: Part = {
    update: () => {
      logs.update();
      wizard.update();
      question.update();
    },
  };

  function setTheme(name: string): string {
    let next: Theme;
    try {
      next = loadTheme(name);
    } catch (err) {
      return errorMessage(err);
    }
    Object.assign(theme, fit(next));
    return noColor ? `theme ${next.name}, without colours (NO_COLOR is set)` : `theme ${next.name}`;
  }

  const shell: Shell = new Shell({
    ctx,
    views,
    help,
    logs,
    wizard,
    question,
    commands,
    keymap,
    limits,
    start: wall?.views[0] ?? 'fleet',
    setTheme,
    quit: () => {
      stop();
      opts.onQuit?.();
    },
    quitQuestion: opts.quitQuestion,
    changed: () => markAll(),
    // Clears the terminal and forgets what blessed thinks is on it, so every cell is drawn again.
    redraw: () => screen.realloc(),
  });
  const rotation = wall
    ? new Rotation(
        wall.rotateMs,
        () => {
          shell.rotate(wall.views);
          markAll();
        },
        ctx.now,
      )
    : undefined;
  const chrome = new Chrome(
    screen,
    content,
    source,
    { title: opts.title ?? 'Switchyard', keymap, limits },
    {
      view: () => shell.view,
      context: () => shell.context(),
      filter: () => shell.filter(),
      prompt: () => shell.prompt(),
      notice: () => shell.notice,
      tag: () => {
        if (wall && rotation?.paused)
          return `wall ${glyphs.sep} PAUSED: Space resumes, n next ${glyphs.sep} next: ${shell.upcoming(wall.views)}`;
        if (wall && rotation)
          return `wall ${glyphs.sep} next: ${shell.upcoming(wall.views)} in ${Math.ceil(rotation.remaining() / 1000)}s`;
        return limits.readonly ? 'read-only' : undefined;
      },
      disconnectedSince: () => disconnectedSince,
      now: ctx.now,
    },
    look,
  );

  function markAll(): void {
    for (const part of [shell.view, chrome, overlays, help]) scheduler.markDirty(part);
  }

  screen.on('keypress', (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg) => {
    // blessed reports "\r" twice, as "return" and as "enter"; act on "enter" only.
    if (stopped || key.name === 'return') return;
    // A wall's own keys (pause, next page) work over its views, not over help (where Space scrolls).
    const wallKey = rotation !== undefined && shell.context() !== 'help' && rotation.press(key.full);
    if (!wallKey && (!shell.press(ch, key) || stopped)) return;
    markAll();
    scheduler.renderNow();
  });

  screen.on('resize', () => {
    markAll();
    scheduler.renderNow();
  });

  const unsubscribe = source.subscribe((change: FleetChange) => {
    if (change.kind === 'connection') disconnectedSince = change.connected ? undefined : change.since;
    if (change.kind === 'role') help.refresh();
    wizard.observe(change);
    for (const observer of observers) observer(change);
    // Samples arrive at 1 Hz per host, and proxies' counters at 1 Hz per route: the clock tick
    // below draws them once a second rather than at the frame cap (bench: ~1 point of a core
    // with 100 hosts). Everything else — states, workloads, migrations, route tables, the
    // connection — shows at once.
    if (change.kind !== 'sample' && !(change.kind === 'route' && change.counters)) markAll();
  });
  // The clock, every "last seen" age and the hosts' new samples advance once a second.
  const clock = setInterval(markAll, 1000);
  clock.unref();
  rotation?.start();

  function stop(): void {
    if (stopped) return;
    stopped = true;
    clearInterval(clock);
    rotation?.stop();
    unsubscribe();
    scheduler.stop();
    screen.destroy();
  }

  const renderNow = (): void => {
    markAll();
    scheduler.renderNow();
  };
  shell.view.show();
  renderNow();

  return { screen, stop, renderNow, screenText: () => screenText(screen) };
}
