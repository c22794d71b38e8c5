// The files pane's state and keys: a board folder beside a local folder. Keys act on the state as it is when they
// arrive (Down then x deletes the entry Down moved to); actions run one after another in the order typed, each
// with its target fixed at its key; deleting, overwriting a local file and sync ask first or show their plan.
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { SyncPlan } from '../../protocol/fs/sync-plan.js';
import { boardDirname, joinBoardPath } from '../../protocol/fs/board-path.js';
import type { BoardLink } from './board-link.js';
import { copyInto, listBoardDir, removeEntry, renameEntry, syncInto, type BoardEntry, type BoardListing } from './files-actions.js';
import { typed, type Key } from './keys.js';
import { editPrompt, openPrompt, type PromptState } from './prompt.js';
import { Store } from './store.js';

export interface LocalEntry {
  name: string;
  dir: boolean;
}

export interface Question {
  text: string;
  yes: () => void;
}

export interface PlanPreview {
  localDir: string;
  boardDir: string;
  delete: boolean;
  /** Undefined while the board is being compared. */
  plan?: SyncPlan;
}

export interface FilesState {
  side: 'board' | 'local';
  localDir: string;
  local: LocalEntry[];
  selLocal: number;
  boardDir: string;
  /** The listing of boardDir on the link's current board (undefined until read). */
  listing?: BoardListing & { generation: number };
  selBoard: number;
  /** Actions queued or running. */
  pending: number;
  prompt?: PromptState;
  question?: Question;
  preview?: PlanPreview;
}

export function readLocal(dir: string): LocalEntry[] {
  try {
    const entries = readdirSync(dir, { withFileTypes: true }).map((e) => ({ name: e.name, dir: e.isDirectory() }));
    return [{ name: '..', dir: true }, ...entries.sort((a, b) => Number(b.dir) - Number(a.dir) || a.name.localeCompare(b.name))];
  } catch {
    return [{ name: '..', dir: true }];
  }
}

const clamp = (n: number, count: number) => Math.max(0, Math.min(count - 1, n));

export class FilesModel extends Store<FilesState> {
  private queue: Promise<void> = Promise.resolve();
  private active = false;
  private renaming: BoardEntry | undefined;
  /** The link generation whose board folder was read without being asked. */
  private readFor = -1;

  constructor(private readonly link: BoardLink, localDir: string) {
    super({ side: 'local', localDir, local: readLocal(localDir), selLocal: 0, boardDir: '/', selBoard: 0, pending: 0 });
    link.subscribe(() => this.followLink());
  }

  /** A prompt, question or plan has the keys (q, ?, Tab are text or answers for it). */
  get modal(): boolean {
    const s = this.state;
    return s.prompt !== undefined || s.question !== undefined || s.preview !== undefined;
  }

  get boardEntries(): BoardEntry[] {
    return this.listing?.entries ?? [];
  }

  activate(): void {
    this.active = true;
    this.update({ local: readLocal(this.state.localDir) });
    this.followLink();
  }

  /** Resolves when every action typed so far has run (tests, and quitting cleanly). */
  settled(): Promise<void> {
    return this.queue;
  }

  deactivate(): void {
    this.active = false;
  }

  /** The listing, if it is of the board the link is on now. */
  get listing(): BoardListing | undefined {
    const l = this.state.listing;
    return l && l.generation === this.link.generation ? l : undefined;
  }

  /** After a switch to another board, what was read from the last one is gone (and re-read when shown). */
  private followLink(): void {
    const l = this.state.listing;
    if (l && l.generation !== this.link.generation) this.update({ listing: undefined, boardDir: '/', selBoard: 0 });
    // Read once per board by itself (f reads again), so a board that does not answer is not asked in a loop.
    if (!this.active || !this.link.connected || this.listing || this.readFor === this.link.generation) return;
    this.readFor = this.link.generation;
    this.enqueue(async () => undefined);
  }

  key(k: Key): void {
    this.followLink();
    const s = this.state;
    if (s.question) return this.answer(k);
    if (s.preview) return this.previewKey(k);
    if (s.prompt) return this.promptKey(k);
    const board = s.side === 'board';
    const entries = this.boardEntries;
    const boardEntry = entries[s.selBoard];
    const localEntry = s.local[s.selLocal];
    const move = (to: (sel: number, count: number) => number) =>
      board ? this.update({ selBoard: clamp(to(s.selBoard, entries.length), entries.length) }) : this.update({ selLocal: clamp(to(s.selLocal, s.local.length), s.local.length) });

    if (k.name === 'left' || k.name === 'right') this.update({ side: board ? 'local' : 'board' });
    else if (k.name === 'up') move((n) => n - 1);
    else if (k.name === 'down') move((n) => n + 1);
    else if (k.name === 'home') move(() => 0);
    else if (k.name === 'end') move((_, count) => count - 1);
    else if (k.name === 'return') {
      if (board && boardEntry?.kind === 'dir') this.openBoardDir(boardEntry.path);
      else if (!board && localEntry?.dir) this.openLocalDir(localEntry.name === '..' ? dirname(s.localDir) : join(s.localDir, localEntry.name));
    } else if (typed(k, 'u')) this.upload(localEntry);
    else if (typed(k, 'g')) this.download(board ? boardEntry : undefined);
    else if (typed(k, 'x')) this.remove(board ? boardEntry : undefined);
    else if (typed(k, 'r') && board && boardEntry && boardEntry.name !== '..') {
      this.renaming = boardEntry;
      this.update({ prompt: openPrompt(`rename ${boardEntry.path} to`, boardEntry.path) });
    } else if (typed(k, 's')) this.planSync(false);
    else if (typed(k, 'f')) {
      this.update({ local: readLocal(s.localDir) });
      this.enqueue(async () => 'refreshed');
    }
  }

  private openLocalDir(dir: string): void {
    this.update({ localDir: dir, local: readLocal(dir), selLocal: 0 });
  }

  private openBoardDir(dir: string): void {
    const from = this.state.boardDir;
    this.update({ boardDir: dir, selBoard: 0 });
    this.enqueue(async () => {
      await this.reread();
      // Coming back up, the cursor lands on the folder we came out of.
      const at = this.boardEntries.findIndex((e) => e.path === from && e.name !== '..');
      if (at > 0 && this.state.boardDir === dir) this.update({ selBoard: at });
      return undefined;
    }, false);
  }

  private upload(entry: LocalEntry | undefined): void {
    if (!entry || entry.name === '..') return this.link.report('choose a local file or folder to upload (← →, ↑ ↓)', true);
    const source = join(this.state.localDir, entry.name);
    const dir = this.state.boardDir;
    // A board that held everything already has nothing new to list.
    let changed = true;
    this.enqueue(async () => {
      const { sent, unchanged } = await copyInto(this.link, `uploading ${entry.name}`, source, dir, true);
      changed = sent > 0;
      const dest = joinBoardPath(dir, entry.name);
      if (!entry.dir) return unchanged ? `${dest} is up to date` : `uploaded ${dest}`;
      return `uploaded ${entry.name}/ to ${dest} (${files(sent)}${unchanged ? `, ${unchanged} up to date` : ''})`;
    }, () => changed);
  }

  private download(entry: BoardEntry | undefined): void {
    if (!entry || entry.name === '..') return this.link.report('choose a board file or folder to download (→ for the board side)', true);
    const localDir = this.state.localDir;
    const dest = join(localDir, basename(entry.path));
    const go = () =>
      this.enqueue(async () => {
        const { sent } = await copyInto(this.link, `downloading ${entry.path}`, entry.path, localDir, false);
        return entry.kind === 'dir' ? `downloaded ${entry.path} to ${dest} (${files(sent)})` : `downloaded ${dest}`;
      });
    if (existsSync(dest)) this.ask(`${dest} exists: overwrite it with ${entry.path}? (y/N)`, go);
    else go();
  }

  private remove(entry: BoardEntry | undefined): void {
    if (this.state.side !== 'board') return this.link.report('x deletes on the board side (→ to get there)', true);
    if (!entry || entry.name === '..') return;
    const what = entry.kind === 'dir' ? `${entry.path}/ and everything in it` : entry.path;
    this.ask(`delete ${what} on the board? (y/N)`, () => this.enqueue(async () => (await removeEntry(this.link, entry), `deleted ${entry.path}`)));
  }

  private ask(text: string, yes: () => void): void {
    this.update({ question: { text, yes } });
  }

  private answer(k: Key): void {
    const q = this.state.question!;
    this.update({ question: undefined });
    if (typed(k, 'y') || typed(k, 'Y')) q.yes();
    else this.link.report('cancelled');
  }

  private promptKey(k: Key): void {
    const outcome = editPrompt(this.state.prompt!, k);
    if ('prompt' in outcome) return this.update({ prompt: outcome.prompt });
    this.update({ prompt: undefined });
    const from = this.renaming!;
    this.renaming = undefined;
    if ('cancel' in outcome) return;
    const text = outcome.submit.trim();
    if (!text || text === from.path) return;
    const to = text.startsWith('/') ? text : joinBoardPath(boardDirname(from.path), text);
    this.enqueue(async () => (await renameEntry(this.link, from.path, to), `renamed ${from.path} to ${to}`));
  }

  /** `s`: work out the plan (a dry run), show it; Enter runs it, d toggles deleting what the host lacks. */
  private planSync(withDelete: boolean): void {
    const preview: PlanPreview = { localDir: this.state.localDir, boardDir: this.state.boardDir, delete: withDelete };
    this.update({ preview });
    this.enqueue(async () => {
      try {
        const { plan } = await syncInto(this.link, preview.localDir, preview.boardDir, { delete: withDelete, dryRun: true });
        if (this.state.preview === preview) this.update({ preview: { ...preview, plan } });
      } catch (err) {
        if (this.state.preview === preview) this.update({ preview: undefined });
        throw err;
      }
      return undefined;
    }, false);
  }

  private previewKey(k: Key): void {
    const p = this.state.preview!;
    if (k.name === 'escape' || typed(k, 'n') || typed(k, 'q')) {
      this.update({ preview: undefined });
      return this.link.report('sync cancelled');
    }
    if (!p.plan) return; // nothing to agree to before the plan is there
    if (typed(k, 'd')) return this.planSync(!p.delete);
    if (k.name !== 'return' && !typed(k, 'y')) return;
    this.update({ preview: undefined });
    this.enqueue(async () => {
      const r = await syncInto(this.link, p.localDir, p.boardDir, { delete: p.delete, dryRun: false });
      const deleted = r.plan.deletes.length ? `, ${r.plan.deletes.length} deleted` : '';
      return `synced ${p.localDir} to :${p.boardDir}: ${r.files.length} uploaded${deleted}, ${r.plan.unchanged.length} unchanged`;
    });
  }

  /**
   * Run an action after those before it; its message (or error) goes to the status line, then the board folder
   * is read again (`reread` false: the action's own result is what matters, e.g. a sync plan; a function: asked
   * once the action ran).
   */
  private enqueue(action: () => Promise<string | undefined>, reread: boolean | (() => boolean) = true): void {
    this.update({ pending: this.state.pending + 1 });
    this.queue = this.queue.then(async () => {
      try {
        const message = await action();
        if (message) this.link.report(message);
      } catch (err) {
        this.link.report((err as Error).message, true);
      }
      try {
        if (typeof reread === 'function' ? reread() : reread) await this.reread();
      } catch (err) {
        this.link.report((err as Error).message, true);
      }
      this.update({ pending: this.state.pending - 1 });
    });
  }

  private async reread(): Promise<void> {
    this.update({ local: readLocal(this.state.localDir) });
    this.update({ selLocal: clamp(this.state.selLocal, this.state.local.length) });
    if (!this.link.connected) return;
    const generation = this.link.generation;
    const dir = this.state.boardDir;
    let listing: BoardListing;
    try {
      listing = await listBoardDir(this.link, dir);
    } catch (err) {
      if (dir === '/' || generation !== this.link.generation) throw err;
      // The folder went away (deleted, another board): back to the root.
      this.update({ boardDir: '/', selBoard: 0 });
      return this.reread();
    }
    // A listing of a folder or board the user has left meanwhile is not shown.
    if (generation !== this.link.generation || dir !== this.state.boardDir) return;
    this.update({ listing: { ...listing, generation }, selBoard: clamp(this.state.selBoard, listing.entries.length) });
  }
}

const files = (n: number) => `${n} file${n === 1 ? '' : 's'}`;
