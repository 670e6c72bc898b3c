import blessed from 'blessed';
import type { FleetChange, FleetSource } from '../core/fleet.js';
import { Chrome } from './chrome.js';
import { ASCII_GLYPHS, UNICODE_GLYPHS } from './glyphs.js';
import { KEYMAP, bindingFor, type KeyActions, type KeyContext } from './keymap.js';
import type { Look } from './render/look.js';
import { RenderScheduler } from './scheduler.js';
import { colourCount, createScreen, screenText } from './screen.js';
import { localeIsUtf8, noColorRequested } from './terminal.js';
import { fitToTerminal, loadTheme, withoutColour } from './theme.js';
import { VIEW_NAMES, VIEWS, type ViewName } from './views/index.js';
import type { View, ViewContext } from './views/view.js';
import { HelpOverlay, helpLines } from './widgets/help-overlay.js';

export { MIN_SIZE } from './chrome.js';

export interface DashboardOptions {
  source: FleetSource;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** Force the size (headless use: tests, recordings); a TTY reports its own. */
  cols?: number;
  rows?: number;
  /** No colours at all; left out, the NO_COLOR environment variable decides. */
  noColor?: boolean;
  /** ASCII glyphs only; left out, a non-UTF-8 locale (LC_ALL, LC_CTYPE, LANG) decides. */
  ascii?: boolean;
  title?: string;
  /** A theme name ("default", "mono") or path to a theme file. */
  theme?: string;
  /** Called after the screen is destroyed and the terminal restored, on q or C-c. */
  onQuit?: () => void;
}

export interface Dashboard {
  screen: blessed.Widgets.Screen;
  stop(): void;
  renderNow(): void;
  /** The screen as plain text, one line per row, trailing blanks trimmed. */
  screenText(): string;
}

/** Which overlay, if any, has the keyboard. */
type Mode = 'normal' | 'filter' | 'help';

/** Opens the full-screen fleet dashboard on `source`; q or C-c quits. */
export function startDashboard(opts: DashboardOptions): Dashboard {
  const { source } = opts;
  const ascii = opts.ascii ?? !localeIsUtf8(process.env);
  const noColor = opts.noColor ?? noColorRequested(process.env);
  // Load the theme before taking over the terminal, so a bad theme file errors cleanly.
  const loaded = loadTheme(opts.theme);
  const screen = createScreen({ ...opts, ascii });
  const theme = noColor ? withoutColour(loaded) : fitToTerminal(loaded, colourCount(screen));
  const look: Look = { theme, glyphs: ascii ? ASCII_GLYPHS : UNICODE_GLYPHS };

  let mode: Mode = 'normal';
  let disconnectedSince: number | undefined;
  let stopped = false;
  const scheduler = new RenderScheduler(() => screen.render());
  const content = blessed.box({ parent: screen, top: 1, bottom: 1, left: 0, right: 0 });
  const ctx: ViewContext = {
    screen,
    parent: content,
    source,
    theme,
    glyphs: look.glyphs,
    state: { selectedId: undefined, filter: '' },
    size: () => ({ width: Number(screen.width), height: Math.max(0, Number(screen.height) - 2) }),
    now: () => Date.now(),
    markDirty: (part) => scheduler.markDirty(part),
  };
  const views = new Map<ViewName, View>(VIEW_NAMES.map((name) => [name, VIEWS[name].create(ctx)]));
  let view = views.get('fleet')!;
  const context = (): KeyContext => (mode === 'normal' ? view.name : mode);
  const help = new HelpOverlay(screen, look, helpLines(KEYMAP, VIEWS, look));
  const chrome = new Chrome(screen, content, source, opts.title ?? 'Switchyard', {
    view: () => view,
    context,
    filter: () => ctx.state.filter,
    disconnectedSince: () => disconnectedSince,
    now: ctx.now,
  }, look);

  const markAll = (): void => {
    scheduler.markDirty(view);
    scheduler.markDirty(chrome);
  };

  const switchTo = (name: ViewName): void => {
    view.hide();
    view = views.get(name)!;
    view.show();
  };

  const actions: KeyActions = {
    move: (dx, dy) => (mode === 'help' ? help.scroll(dy) : view.move(dx, dy)),
    page: (delta) => view.page(delta),
    edge: (which) => view.edge(which),
    open: () => {
      if (ctx.state.selectedId !== undefined) switchTo('server');
    },
    back: () => switchTo('fleet'),
    quit: () => {
      stop();
      opts.onQuit?.();
    },
    toggleHelp: () => {
      help.toggle();
      mode = help.visible ? 'help' : 'normal';
    },
    startFilter: () => {
      mode = 'filter';
    },
    clearFilter: () => {
      ctx.state.filter = '';
    },
    applyFilter: () => {
      mode = 'normal';
    },
    cancelFilter: () => {
      ctx.state.filter = '';
      mode = 'normal';
    },
    eraseFilter: () => {
      ctx.state.filter = ctx.state.filter.slice(0, -1);
    },
  };

  screen.on('keypress', (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg) => {
    // blessed reports "\r" twice, as "return" and as "enter"; act on "enter" only.
    if (stopped || key.name === 'return') return;
    const binding = bindingFor(context(), key.full);
    if (binding) binding.action(actions);
    else if (mode === 'filter' && ch !== undefined && !key.ctrl && !key.meta && ch >= ' ' && ch !== '\x7f') ctx.state.filter += ch;
    else return;
    if (stopped) return;
    markAll();
    scheduler.renderNow();
  });

  screen.on('resize', () => {
    markAll();
    scheduler.renderNow();
  });

  const unsubscribe = source.subscribe((change: FleetChange) => {
    if (change.kind === 'connection') disconnectedSince = change.connected ? undefined : change.since;
    markAll();
  });
  // The clock and every "last seen" age advance even when the fleet is quiet.
  const clock = setInterval(markAll, 1000);
  clock.unref();

  function stop(): void {
    if (stopped) return;
    stopped = true;
    clearInterval(clock);
    unsubscribe();
    scheduler.stop();
    screen.destroy();
  }

  const renderNow = (): void => {
    markAll();
    scheduler.renderNow();
  };
  view.show();
  renderNow();

  return { screen, stop, renderNow, screenText: () => screenText(screen) };
}
