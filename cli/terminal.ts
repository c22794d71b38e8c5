// The `repl` pass-through: keys go to the board byte for byte (no local echo, the board echoes), board
// output goes to the terminal. Ctrl-] or Ctrl-X leaves; Ctrl-J injects code, Ctrl-K a file. When the device goes away
// (unplugged, board reset over USB) we say so and reconnect when the same device path returns. Over a mount,
// a soft reset (Ctrl-D, machine.soft_reset()) loses /remote on the board: once the REPL prompt is back, the
// mount helper runs again (raw REPL in and out, unseen; keys typed meanwhile wait for it).
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import type { Transport } from '../protocol/transport.js';

const EXIT_KEYS = new Set([0x1d, 0x18]);
const INJECT_KEY = 0x0a;
const INJECT_FILE_KEY = 0x0b;

export interface TerminalOptions {
  /** The link to start with. */
  transport: Transport;
  /** Reopens the same device after it went away. */
  reopen: () => Promise<Transport>;
  input: NodeJS.ReadableStream;
  /** Board output for the user. */
  output: (bytes: Uint8Array) => void;
  /** Link state changes worth telling the user about. */
  status: (event: 'disconnected' | 'reconnected' | 'inject-failed' | 'remount-failed', message: string) => void;
  /** Append everything the board prints to this file. */
  capturePath?: string;
  /** Sent in paste mode when Ctrl-J is pressed. */
  injectCode?: string;
  /** Read when Ctrl-K is pressed (so the latest save goes) and sent in paste mode, as mpremote's --inject-file. */
  injectFile?: string;
  reconnectIntervalMs?: number;
  /** The link carries a mount: `arm` registers the call for a board reboot, `run` mounts again (raw REPL in and out). */
  remount?: { arm: (onReboot: () => void) => void; run: () => Promise<void> };
}

const PROMPT = '>>> ';
/** After a remount, the friendly banner's prompt ends the hidden part; this long at most. */
const BANNER_MS = 3000;
/** Keys wait this long at most for the prompt after a reboot (a main.py that runs on gets them then). */
const BOOT_HOLD_MS = 3000;

/**
 * A terminal device turns every LF it is given into CR LF (ONLCR, which Node's raw mode leaves on), so the
 * board's CR LF would reach the screen, and expect scripts, as CR CR LF. This hands the terminal a bare LF
 * for each CR LF instead; a CR at the end of a chunk waits briefly for the LF that may follow.
 */
export function terminalNewlines(write: (bytes: Uint8Array) => void, holdMs = 20): (bytes: Uint8Array) => void {
  let heldCr = false;
  let timer: NodeJS.Timeout | undefined;
  const flushCr = () => {
    timer = undefined;
    if (heldCr) write(Uint8Array.of(0x0d));
    heldCr = false;
  };
  return (bytes) => {
    clearTimeout(timer);
    const out: number[] = [];
    let i = 0;
    if (heldCr) {
      if (bytes[0] !== 0x0a) out.push(0x0d);
      heldCr = false;
    }
    for (; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b === 0x0d && i === bytes.length - 1) heldCr = true;
      else if (!(b === 0x0d && bytes[i + 1] === 0x0a)) out.push(b);
    }
    if (out.length) write(Uint8Array.from(out));
    if (heldCr) timer = setTimeout(flushCr, holdMs);
  };
}

/** Runs until an exit key or end of input; resolves after the link is closed. */
export async function runTerminal(opts: TerminalOptions): Promise<void> {
  let link: Transport | undefined = opts.transport;
  let capture: WriteStream | undefined;
  if (opts.capturePath) {
    capture = createWriteStream(opts.capturePath, { flags: 'a' });
    await new Promise<void>((resolve, reject) => capture!.once('open', () => resolve()).once('error', reject));
  }
  let finished = false;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const stop = () => {
    finished = true;
    finish();
  };

  // Remount state: `rebooted` until the prompt is back, then `hidden` (output dropped) until the banner of the
  // friendly REPL we return to has shown its prompt. Keys typed from the reboot on wait (`holding`), so a line
  // typed ahead during the boot reaches the REPL after the remount instead of being cleared by it; Ctrl-C goes
  // through at once (main.py may run forever), and so does everything once a boot shows no prompt for a while.
  let rebooted = false;
  let hidden = false;
  let holding = false;
  let holdTimer: NodeJS.Timeout | undefined;
  let tail = '';
  let held: Buffer[] = [];
  const letKeysGo = () => {
    clearTimeout(holdTimer);
    holding = false;
    const keys = Buffer.concat(held);
    held = [];
    if (keys.length) onInput(keys);
  };
  const reveal = () => {
    hidden = false;
    letKeysGo();
  };
  const remount = async (r: NonNullable<TerminalOptions['remount']>) => {
    hidden = true;
    clearTimeout(holdTimer);
    tail = '';
    try {
      await r.run();
    } catch (err) {
      opts.status('remount-failed', `could not mount /remote again after the soft reset: ${(err as Error).message}`);
      return reveal();
    }
    const timer = setTimeout(reveal, BANNER_MS);
    waitPrompt = () => (clearTimeout(timer), reveal());
  };
  let waitPrompt: (() => void) | undefined;
  opts.remount?.arm(() => {
    rebooted = holding = true;
    clearTimeout(holdTimer);
    holdTimer = setTimeout(() => !hidden && letKeysGo(), BOOT_HOLD_MS);
  });

  const attach = (t: Transport) => {
    t.onData((bytes) => {
      if (opts.remount && (rebooted || hidden)) {
        tail = (tail + Buffer.from(bytes).toString('latin1')).slice(-PROMPT.length);
        if (rebooted && !hidden && tail === PROMPT) {
          rebooted = false;
          opts.output(bytes);
          capture?.write(bytes);
          void remount(opts.remount);
          return;
        }
        if (hidden) {
          if (tail === PROMPT && waitPrompt) {
            const done = waitPrompt;
            waitPrompt = undefined;
            done();
          }
          return;
        }
      }
      opts.output(bytes);
      capture?.write(bytes);
    });
    t.onClose((err) => {
      if (finished || !err) return;
      link = undefined;
      opts.status('disconnected', `${t.path}: device disconnected; waiting for it to come back (Ctrl-] to quit)`);
      void reconnect(t.path);
    });
  };

  const reconnect = async (path: string) => {
    const interval = opts.reconnectIntervalMs ?? 500;
    while (!finished) {
      await new Promise((r) => setTimeout(r, interval));
      if (finished) return;
      try {
        const t = await opts.reopen();
        if (finished) {
          await t.close();
          return;
        }
        link = t;
        attach(t);
        opts.status('reconnected', `${path}: reconnected`);
        return;
      } catch {
        // not back yet
      }
    }
  };

  const injectedFile = (): string | undefined => {
    if (opts.injectFile === undefined) return undefined;
    try {
      return readFileSync(opts.injectFile, 'utf8');
    } catch (err) {
      opts.status('inject-failed', `${opts.injectFile}: ${(err as Error).message}`);
      return undefined;
    }
  };

  const onInput = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (holding && !bytes.some((b) => EXIT_KEYS.has(b))) {
      if (hidden || !bytes.includes(0x03)) return void held.push(bytes);
      held.push(bytes);
      return letKeysGo();
    }
    const exitAt = bytes.findIndex((b) => EXIT_KEYS.has(b));
    const keys = exitAt >= 0 ? bytes.subarray(0, exitAt) : bytes;
    if (link && keys.length) {
      const out: Buffer[] = [];
      let start = 0;
      keys.forEach((b, i) => {
        const code = b === INJECT_KEY ? opts.injectCode : b === INJECT_FILE_KEY ? injectedFile() : undefined;
        if (code === undefined) return;
        out.push(keys.subarray(start, i), Buffer.from(`\x05${code}\x04`));
        start = i + 1;
      });
      out.push(keys.subarray(start));
      void link.write(Buffer.concat(out)).catch(() => {});
    }
    if (exitAt >= 0) stop();
  };

  attach(opts.transport);
  opts.input.on('data', onInput);
  opts.input.once('end', stop);
  opts.input.resume();
  await done;
  opts.input.off('data', onInput);
  opts.input.off('end', stop);
  opts.input.pause();
  await link?.close();
  if (capture) await new Promise<void>((resolve) => capture!.end(() => resolve()));
}
