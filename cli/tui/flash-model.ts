// Flash: choose an image, see the detected chip and the offset it wants, optional erase, progress, verify.
// Like `flash write-flash`, a region the flash already holds is skipped unless the user asks to always write.
// The ESP ROM protocol is all this view speaks: on a board whose firmware says it is another port (rp2) the
// view says so at once instead of trying to reach a ROM that is not there.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { hostError } from '../../protocol/host-error.js';
import type { BoardLink } from './board-link.js';
import { detectChip, flashImage, generatedImage, loadImage, suggestedOffset, type ChipFacts, type FlashImage } from './flash-actions.js';
import { typed, type Key } from './keys.js';
import { editPrompt, openPrompt, type PromptState } from './prompt.js';
import { Store } from './store.js';

const hex = (n: number) => `0x${n.toString(16)}`;

/** MicroPython ports whose chips have the ESP serial ROM bootloader. */
const ESP_PORTS = new Set(['esp32', 'esp8266']);

/** Why this view cannot flash the connected board, or undefined when it can (or the board has not said). */
export function romAbsence(sysname: string | undefined, board: string | undefined): string | undefined {
  if (sysname === undefined || ESP_PORTS.has(sysname)) return undefined;
  const uf2 = sysname === 'rp2' ? ' To flash it, hold BOOTSEL while plugging it in and copy a .uf2 file onto the drive that appears.' : '';
  return `${board ?? 'This board'} runs MicroPython's ${sysname} port: it has no ESP ROM bootloader, so this view does not apply.${uf2}`;
}

export interface FlashState {
  image?: FlashImage;
  chip?: ChipFacts;
  offsetOverride?: number;
  erase: boolean;
  always: boolean;
  prompt?: PromptState & { purpose: 'image' | 'offset' };
  question?: { text: string; yes: () => void };
  result?: { text: string; ok: boolean };
  busy: boolean;
}

export class FlashModel extends Store<FlashState> {
  constructor(private readonly link: BoardLink) {
    super({ erase: false, always: false, busy: false });
  }

  get modal(): boolean {
    return this.state.prompt !== undefined || this.state.question !== undefined;
  }

  /** The offset a write goes to now: the user's, else what the detected chip wants for this image. */
  get offset(): number | undefined {
    const s = this.state;
    return s.offsetOverride ?? (s.image && s.chip ? suggestedOffset(s.image.info, s.chip.bootloaderOffset) : undefined);
  }

  get notApplicable(): string | undefined {
    return romAbsence(this.link.status.sysname, this.link.status.board);
  }

  key(k: Key): void {
    const s = this.state;
    if (s.question) {
      this.update({ question: undefined });
      if (typed(k, 'y') || typed(k, 'Y')) s.question.yes();
      else this.update({ result: { text: 'cancelled', ok: false } });
      return;
    }
    if (s.prompt) return this.promptKey(k);
    if (typed(k, 'e')) return this.update({ erase: !s.erase });
    if (typed(k, 'a')) return this.update({ always: !s.always });
    if (typed(k, 'i')) return this.update({ prompt: { ...openPrompt('image file'), purpose: 'image' } });
    if (typed(k, 'o')) return this.update({ prompt: { ...openPrompt('offset (empty: suggested)'), purpose: 'offset' } });
    if (!typed(k, 'g') && !typed(k, 'd') && !typed(k, 'w')) return;
    const absent = this.notApplicable;
    if (absent) return this.finish({ text: absent, ok: false });
    if (s.busy) return this.update({ result: { text: `wait: ${this.link.status.activity ?? 'the last action'} is still running`, ok: false } });
    if (typed(k, 'g')) this.run(async () => (this.update({ image: await generatedImage(this.link.status.port ?? 'virtual') }), 'generated firmware loaded'));
    else if (typed(k, 'd')) this.run(async () => (this.update({ chip: await detectChip(this.link) }), 'chip detected'));
    else if (s.image) {
      const image = s.image;
      const opts = { offset: this.offset, erase: s.erase, skipUnchanged: !s.always };
      const write = () => this.run(() => this.write(image, opts));
      // Erasing takes the board's files with it: asked first.
      if (s.erase) this.update({ question: { text: `erase the whole flash (the board's files too), then write ${image.name}? (y/N)`, yes: write } });
      else write();
    } else this.update({ result: { text: 'choose an image first (i a file, g the generated firmware)', ok: false } });
  }

  private async write(image: FlashImage, opts: { offset?: number; erase: boolean; skipUnchanged: boolean }): Promise<string> {
    const out = await flashImage(this.link, image, opts);
    this.update({ chip: out });
    return out.results
      .map((r) => (r.skipped ? `${r.size} bytes at ${hex(r.address)} on ${out.chip}: skipped, already in flash` : `Wrote ${r.size} bytes at ${hex(r.address)} to ${out.chip}; hash of data verified`))
      .join('\n');
  }

  private promptKey(k: Key): void {
    const p = this.state.prompt!;
    const outcome = editPrompt(p, k);
    if ('prompt' in outcome) return this.update({ prompt: { ...outcome.prompt, purpose: p.purpose } });
    this.update({ prompt: undefined });
    if ('cancel' in outcome) return;
    const value = outcome.submit.trim();
    if (p.purpose === 'offset') {
      const n = Number(value);
      if (value === '') this.update({ offsetOverride: undefined });
      else if (Number.isInteger(n) && n >= 0) this.update({ offsetOverride: n });
      else this.update({ result: { text: `not an offset: ${value}`, ok: false } });
    } else if (value) {
      this.run(async () => (this.update({ image: loadImage(basename(value), await readFile(value)) }), `loaded ${value}`));
    }
  }

  /** The result stays in the view and goes to the status line, so it is seen from another view too. */
  private finish(r: { text: string; ok: boolean }): void {
    this.update({ result: r });
    this.link.report(r.text, !r.ok);
  }

  private run(action: () => Promise<string>): void {
    this.update({ busy: true, result: undefined });
    void action()
      .then((text) => ({ text, ok: true }), (err: unknown) => ({ text: (hostError('', err) as Error).message, ok: false }))
      .then((r) => this.finish(r))
      .finally(() => this.update({ busy: false }));
  }
}
