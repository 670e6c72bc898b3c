import blessed from 'blessed';
import type { FleetChange, FleetSource } from '../core/fleet.js';
import { Chrome } from './chrome.js';
import { commandTable } from './commands.js';
import { ASCII_GLYPHS, UNICODE_GLYPHS } from './glyphs.js';
import { KEYMAP, bindingFor } from './keymap.js';
import type { Look } from './render/look.js';
import { RenderScheduler, type Part } from './scheduler.js';
import { colourCount, createScreen, screenText } from './screen.js';
import { Shell } from './shell.js';
import { localeIsUtf8, noColorRequested } from './terminal.js';
import { fitToTerminal, loadTheme, withoutColour } from './theme.js';
import { VIEW_NAMES, VIEWS, type ViewName } from './views/index.js';
import { newUiState, type View, type ViewContext } from './views/view.js';
import { HelpOverlay, helpLines } from './widgets/help-overlay.js';
import { Question } from './widgets/question.js';
import { Wizard } from './wizard/wizard.js';

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
    state: newUiState(),
    size: () => ({ width: Number(screen.width), height: Math.max(0, Number(screen.height) - 2) }),
    now: () => Date.now(),
    markDirty: (part) => scheduler.markDirty(part),
  };
  const views = new Map<ViewName, View>(VIEW_NAMES.map((name) => [name, VIEWS[name].create(ctx)]));
  const help = new HelpOverlay(screen, look, (width) => helpLines(KEYMAP, VIEWS, look, width));
  // Inside the view area, so they lie over it (and go with it when the terminal is too small).
  const question = new Question(content, look, ctx.size);
  const wizard = new Wizard({ parent: content, source, look, now: ctx.now, size: ctx.size, changed: () => scheduler.markDirty(overlays), ask: (text, onYes) => question.ask(text, onYes) });
  // One part for both, drawn in this order, so a question always lies over the wizard.
  const overlays: Part = {
    update: () => {
      wizard.update();
      question.update();
    },
  };
  const shell: Shell = new Shell({
    ctx,
    views,
    help,
    wizard,
    question,
    commands: commandTable(VIEWS),
    quit: () => {
      stop();
      opts.onQuit?.();
    },
    changed: () => markAll(),
  });
  const chrome = new Chrome(screen, content, source, opts.title ?? 'Switchyard', {
    view: () => shell.view,
    context: () => shell.context(),
    filter: () => shell.filter(),
    prompt: () => shell.prompt(),
    notice: () => shell.notice,
    disconnectedSince: () => disconnectedSince,
    now: ctx.now,
  }, look);

  function markAll(): void {
    for (const part of [shell.view, chrome, overlays, help]) scheduler.markDirty(part);
  }

  screen.on('keypress', (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg) => {
    // blessed reports "\r" twice, as "return" and as "enter"; act on "enter" only.
    if (stopped || key.name === 'return') return;
    const binding = bindingFor(shell.context(), key.full);
    if (!binding && !shell.type(ch, key)) return;
    if (binding) {
      shell.notice = undefined;
      binding.action(shell);
    }
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
    wizard.observe(change);
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
  shell.view.show();
  renderNow();

  return { screen, stop, renderNow, screenText: () => screenText(screen) };
}
