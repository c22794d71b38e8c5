// A Transport that carries a mount: it takes the board's requests out of the incoming stream and answers
// them from the host folder, and hands everything else on, so the raw REPL client, the terminal and the TUI
// work over it unchanged. While a request is open, other writes (keys, Ctrl-C) wait for its answer.
import { randomBytes } from 'node:crypto';
import type { Transport } from '../transport.js';
import { DelegatingTransport } from '../transports/delegating.js';
import { errorAnswer, FrameSplitter, RESEND, type Piece, type Request } from './frames.js';
import type { HostTree } from './host-tree.js';

/** A frame whose end has not come after this much silence was damaged on the way. */
const FRAME_SILENCE_MS = 1000;
/** A possible frame start at the end of a chunk is text if nothing follows within this time. */
const MARK_SILENCE_MS = 30;
const REBOOT = 'soft reboot';
/** An answer's bytes leave at once: this much silence in the middle of one means the link lost a byte of it. */
const ANSWER_QUIET_MS = 10_000;

/** A fresh frame key: four letters, so the board's side needs no escaping for it. */
export function frameKey(): string {
  return [...randomBytes(4)].map((b) => String.fromCharCode(0x61 + (b % 26))).join('');
}

export class MountLink extends DelegatingTransport {
  private readonly splitter: FrameSplitter;
  private readonly listeners = new Set<(chunk: Uint8Array) => void>();
  private readonly offInner: () => void;
  private timer: NodeJS.Timeout | undefined;
  /** Resolves when the open request (if any) has been answered. */
  private gate: Promise<void> = Promise.resolve();
  private openGate: (() => void) | undefined;
  private tail = '';
  /**
   * The last request answered, by number, and its answer: the board sends a request again when the link damaged
   * or lost its answer, and gets that answer again instead of the request running twice (a write, a rename).
   */
  private last: { seq: number; answer: Buffer } = { seq: 0, answer: Buffer.alloc(0) };
  /** False once the board reset (its mount table is gone) until the helper runs again. */
  mounted = false;
  /** Called when the board is seen rebooting (the mount is gone on the board). */
  onReboot: (() => void) | undefined;

  constructor(
    inner: Transport,
    readonly tree: HostTree,
    readonly key: string = frameKey(),
    /** How long the board waits in the middle of an answer before it gives up on it (ETIMEDOUT). */
    readonly quietMs = ANSWER_QUIET_MS,
  ) {
    super(inner);
    this.splitter = new FrameSplitter(key);
    this.offInner = inner.onData((chunk) => this.receive(chunk));
    inner.onClose(() => {
      clearTimeout(this.timer);
      this.tree.closeAll();
    });
  }

  override async write(data: Uint8Array): Promise<void> {
    await this.gate;
    await this.inner.write(data);
  }

  override onData(listener: (chunk: Uint8Array) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  override async close(): Promise<void> {
    clearTimeout(this.timer);
    this.offInner();
    this.tree.closeAll();
    await this.inner.close();
  }

  private receive(chunk: Uint8Array): void {
    clearTimeout(this.timer);
    this.handle(this.splitter.push(chunk));
    if (this.splitter.holding) {
      this.closeGate();
      const long = this.splitter.holdingFrame;
      this.timer = setTimeout(() => this.handle(this.splitter.flush()), long ? FRAME_SILENCE_MS : MARK_SILENCE_MS);
    }
  }

  private handle(pieces: Piece[]): void {
    for (const piece of pieces) {
      if (piece.kind === 'text') this.text(piece.bytes);
      else this.answer(piece.kind === 'request' ? this.reply(piece.request) : errorAnswer(RESEND));
    }
    if (!this.splitter.holding) this.releaseGate();
  }

  /** The highest request number answered: the helper, run again, numbers its requests after it. */
  get seq(): number {
    return this.last.seq;
  }

  private reply(req: Request): Buffer {
    if (req.seq === this.last.seq) return this.last.answer;
    this.last = { seq: req.seq, answer: this.tree.answer(req) };
    return this.last.answer;
  }

  private answer(bytes: Uint8Array): void {
    // Straight to the link, ahead of writes waiting at the gate.
    void this.inner.write(bytes).catch(() => {});
  }

  private text(bytes: Uint8Array): void {
    const seen = this.tail + Buffer.from(bytes).toString('latin1');
    if (seen.includes(REBOOT)) {
      this.mounted = false;
      this.tree.closeAll();
      this.onReboot?.();
      this.tail = '';
    } else this.tail = seen.slice(-REBOOT.length);
    for (const l of this.listeners) l(bytes);
  }

  private closeGate(): void {
    if (this.openGate) return;
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  private releaseGate(): void {
    const open = this.openGate;
    this.openGate = undefined;
    open?.();
  }
}
