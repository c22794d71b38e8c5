// The TUI as state and keys, without React: which view has the focus, the help screen, the REPL's scrollback,
// quitting. Raw terminal bytes come in through input(); each key is handled, in order, before the next one is
// looked at, so a key typed right after another acts on what the first one left (a view switch, a moved cursor).
import type { BoardLink } from './board-link.js';
import { BoardsModel } from './boards-model.js';
import { FilesModel } from './files-model.js';
import { FlashModel } from './flash-model.js';
import { KeyRouter, viewAfter, type TuiCommand, type ViewName } from './key-router.js';
import { KeyDecoder, typed, type Key } from './keys.js';
import { PanelModel } from './panel-model.js';
import { Store } from './store.js';
import { openVirtualHw } from './virtual-hw.js';

export interface ViewModel {
  /** A prompt, question or preview holds the keys: q, ? and Tab are text or answers for it. */
  readonly modal: boolean;
  key(k: Key): void;
  activate?(): void;
  deactivate?(): void;
}

export interface AppState {
  view: ViewName;
  help: boolean;
  /** REPL lines scrolled back from the live end. */
  scrolledBack: number;
  /** Asked before quitting while an operation holds the link. */
  confirmQuit?: string;
}

export interface AppOptions {
  link: BoardLink;
  localDir: string;
  /** Called once when the user quits. */
  onQuit: () => void;
}

export class AppModel extends Store<AppState> {
  readonly link: BoardLink;
  readonly boards: BoardsModel;
  readonly files: FilesModel;
  readonly flash: FlashModel;
  readonly panel: PanelModel;
  private readonly router = new KeyRouter();
  private readonly decoder = new KeyDecoder();
  private readonly onQuit: () => void;
  private quitting = false;
  private hwPort: string | undefined;

  constructor(opts: AppOptions) {
    super({ view: 'repl', help: false, scrolledBack: 0 });
    this.link = opts.link;
    this.onQuit = opts.onQuit;
    this.boards = new BoardsModel(
      (port) => {
        this.show('repl');
        void this.link.connect(port).catch(() => undefined); // the status line shows the error
      },
      () => void this.link.disconnect(),
    );
    this.files = new FilesModel(this.link, opts.localDir);
    this.flash = new FlashModel(this.link);
    this.panel = new PanelModel();
    this.link.subscribe(() => this.followPort());
  }

  private viewModel(view: ViewName): ViewModel | undefined {
    return { boards: this.boards, files: this.files, flash: this.flash, board: this.panel, repl: undefined }[view];
  }

  /** Raw bytes from the terminal. */
  input(chunk: Buffer): void {
    for (const r of this.router.route(chunk)) {
      if (r.to === 'tui') this.command(r.command);
      else if (this.state.view === 'repl' && !this.state.help && !this.state.confirmQuit) {
        // Typing follows the output again, as a terminal does.
        if (this.state.scrolledBack) this.update({ scrolledBack: 0 });
        this.link.sendKeys(r.bytes);
      } else for (const k of this.decoder.push(r.bytes)) this.key(k);
    }
  }

  command(c: TuiCommand): void {
    if (c.kind === 'quit') return this.quit();
    if (c.kind === 'help') return this.update({ help: !this.state.help });
    if (c.kind === 'scroll') {
      const max = Math.max(0, this.link.terminal.lineCount - 1);
      return this.update({ scrolledBack: Math.max(0, Math.min(max, this.state.scrolledBack + c.lines)) });
    }
    this.show(viewAfter(this.state.view, c));
  }

  show(view: ViewName): void {
    const from = this.state.view;
    this.update({ help: false, confirmQuit: undefined });
    if (view === from) return;
    this.viewModel(from)?.deactivate?.();
    this.link.clearMessage(); // a message is about the view it was made in
    this.update({ view });
    this.viewModel(view)?.activate?.();
  }

  /** Quit, or ask first while an operation (a flash write, an upload) holds the link. */
  quit(force = false): void {
    if (this.quitting) return;
    const activity = this.link.status.activity;
    if (activity && !force) return this.update({ confirmQuit: activity, help: false });
    this.quitting = true;
    this.onQuit();
  }

  private key(k: Key): void {
    const s = this.state;
    if (s.confirmQuit) {
      this.update({ confirmQuit: undefined });
      if (typed(k, 'y') || typed(k, 'Y')) this.quit(true);
      return;
    }
    if (s.help) {
      if (k.name === 'escape' || k.name === 'return' || typed(k, 'q') || typed(k, '?')) this.update({ help: false });
      return;
    }
    const model = this.viewModel(s.view);
    if (!model?.modal) {
      if (typed(k, '?')) return this.update({ help: true });
      if (typed(k, 'q') || (k.ctrl && k.text === 'c')) return this.quit();
      if (k.name === 'tab') return this.command({ kind: 'next-view' });
    }
    model?.key(k);
  }

  /** The virtual board panel follows the connected port. */
  private followPort(): void {
    const port = this.link.connected ? this.link.status.port : undefined;
    if (port === this.hwPort) return;
    this.hwPort = port;
    this.panel.setHw(undefined);
    if (port) {
      void openVirtualHw(port).then(
        (hw) => {
          if (this.hwPort === port) this.panel.setHw(hw);
        },
        () => undefined,
      );
    }
  }
}
