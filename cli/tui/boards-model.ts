// Boards: physical ports (with the board guessed from USB ids) and virtual boards; Enter connects to the one
// the cursor is on when Enter arrives.
import { listPorts } from '../../protocol/ports.js';
import { createBoard, scanBoards } from '../../emulator/board-store.js';
import type { ProfileName } from '../../emulator/profiles.js';
import { typed, type Key } from './keys.js';
import { editPrompt, openPrompt, type PromptState } from './prompt.js';
import { Store } from './store.js';

export interface BoardChoice {
  port: string;
  label: string;
}

export interface BoardsState {
  choices: BoardChoice[];
  selected: number;
  prompt?: PromptState;
  note: string;
}

/** The default virtual board is always offered: it is created on first connect. A broken board.json is named. */
async function loadChoices(): Promise<{ choices: BoardChoice[]; note: string }> {
  const ports = await listPorts().catch(() => []);
  const { boards, invalid } = scanBoards();
  const virtual = boards.map((b) => ({ port: `virtual:${b.name}`, label: `virtual board '${b.name}' (${b.config.profile})` }));
  if (!virtual.some((c) => c.port === 'virtual:default') && !invalid.some((b) => b.name === 'default')) {
    virtual.unshift({ port: 'virtual:default', label: "virtual board 'default' (esp32)" });
  }
  const choices = [...virtual, ...ports.map((p) => ({ port: p.path, label: [p.board ?? p.product ?? 'serial port', p.vidPid].filter(Boolean).join(' ') }))];
  return { choices, note: invalid.map((b) => b.error.message).join('; ') };
}

export class BoardsModel extends Store<BoardsState> {
  constructor(
    private readonly connect: (port: string) => void,
    private readonly disconnect: () => void,
  ) {
    super({ choices: [], selected: 0, note: '' });
  }

  get modal(): boolean {
    return this.state.prompt !== undefined;
  }

  /** Read the ports and boards again (on entering the view and on r). */
  refresh(note?: string): Promise<void> {
    return loadChoices().then(
      (r) => this.update({ choices: r.choices, selected: Math.min(this.state.selected, Math.max(0, r.choices.length - 1)), note: note ?? r.note }),
      (err: Error) => this.update({ note: err.message }),
    );
  }

  activate(): void {
    void this.refresh();
  }

  key(k: Key): void {
    const s = this.state;
    if (s.prompt) return this.promptKey(k);
    if (k.name === 'up') this.update({ selected: Math.max(0, s.selected - 1) });
    else if (k.name === 'down') this.update({ selected: Math.max(0, Math.min(s.choices.length - 1, s.selected + 1)) });
    else if (k.name === 'return' && s.choices[s.selected]) this.connect(s.choices[s.selected]!.port);
    else if (typed(k, 'd')) this.disconnect();
    else if (typed(k, 'r')) void this.refresh();
    else if (typed(k, 'n')) this.update({ prompt: openPrompt('new virtual board: NAME [esp32|esp32c3|esp32s3|rp2-pico]') });
  }

  private promptKey(k: Key): void {
    const outcome = editPrompt(this.state.prompt!, k);
    if ('prompt' in outcome) return this.update({ prompt: outcome.prompt });
    this.update({ prompt: undefined });
    if ('cancel' in outcome) return;
    const [name = '', profile] = outcome.submit.trim().split(/\s+/);
    try {
      createBoard(name, { profile: (profile || undefined) as ProfileName | undefined });
      void this.refresh(`created virtual board '${name}'`);
    } catch (err) {
      this.update({ note: (err as Error).message });
    }
  }
}
