// A scripted stand-in for a MicroPython board's REPL (friendly, raw and raw-paste modes, as pyexec.c
// behaves), with switches to misbehave. It is transport-agnostic: feed() takes what the host sent, and
// everything the "board" says goes to the sink. Adapters below serve it over TCP or a PTY master.
import { createServer, type Server, type Socket } from 'node:net';
import { programChecksum } from '../../protocol/checked-program.js';

export interface ProgramOutput {
  /** Chunks of stdout, each sent as a separate write (lets tests split UTF-8 sequences). */
  stdout?: Array<string | Uint8Array>;
  traceback?: string;
  /** Keep "running" until the host sends Ctrl-C (then a KeyboardInterrupt traceback). */
  forever?: boolean;
  /** Drop the link once the program is received. */
  disconnect?: boolean;
  /** Read one line from stdin, then print it back as "got:LINE". */
  readsLine?: boolean;
}

export interface PeerOptions {
  /** How raw-paste requests are answered: supported, refused (R\x00), or unknown to old firmware. */
  rawPaste?: 'yes' | 'refuse' | 'old-firmware';
  /** Raw-paste window (the board's stdin buffer is twice this). */
  window?: number;
  /** Delay before granting each further raw-paste window, to make the host wait for credit. */
  creditDelayMs?: number;
  /** Send \x04 after this many raw-paste bytes, as a board does when compilation stops early. */
  stopPasteAfter?: number;
  /** Ignore all input (a dead or non-MicroPython device). */
  silent?: boolean;
  /** Answer everything with this noise instead of a REPL. */
  garbage?: boolean;
  /** Print boot chatter and ignore input for this long after connecting. */
  bootMs?: number;
  /** A running main.py printing this line until the first Ctrl-C. */
  chatty?: string;
  /** Line ending in the raw REPL banner (some links turn \n into \r\n). */
  bannerEol?: string;
  /** Runs the program; default: print(repr(literal)), print(literal), raise, and a few markers. */
  run?: (code: string) => ProgramOutput;
  /**
   * Read nothing for this long after connecting, then everything that came meanwhile at once: a board still
   * finishing a program Ctrl-C cannot stop, or qemu polling an unheld pty.
   */
  holdInputMs?: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function defaultRun(code: string): ProgramOutput {
  if (code.includes('FOREVER')) return { forever: true };
  if (code.includes('DISCONNECT')) return { disconnect: true };
  if (code.includes('stdin.readline')) return { readsLine: true };
  const raise = /raise (\w+)\((?:'([^']*)')?\)/.exec(code);
  if (raise) {
    return { traceback: `Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\n${raise[1]}: ${raise[2] ?? ''}\r\n` };
  }
  const lines: string[] = [];
  for (const m of code.matchAll(/print\((?:repr\()?(.*?)\)?\)$/gm)) {
    const arg = m[1]!.trim();
    lines.push(/^'.*'$/.test(arg) && !m[0].includes('repr(') ? arg.slice(1, -1) : arg);
  }
  return { stdout: lines.map((l) => `${l}\r\n`) };
}

export class ScriptedPeer {
  /** Bytes of raw-paste data received beyond the credit granted: must stay 0. */
  overruns = 0;
  /** Programs executed, in order. */
  readonly programs: string[] = [];
  readonly received: number[] = [];
  softResets = 0;
  pasteUsed = 0;
  private mode: 'friendly' | 'raw' | 'paste' | 'paste-stopped' | 'running' | 'stdin' | 'booting' = 'friendly';
  private stdinLine: number[] = [];
  private line: number[] = [];
  private pasteCredit = 0;
  private pasteReceived = 0;
  private chatter: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly opts: Required<Pick<PeerOptions, 'rawPaste' | 'window' | 'bannerEol'>> & PeerOptions;

  constructor(
    private readonly sink: (bytes: Uint8Array) => void,
    options: PeerOptions = {},
    private readonly hangUp: () => void = () => {},
  ) {
    this.opts = { rawPaste: 'yes', window: 128, bannerEol: '\r\n', ...options };
    if (this.opts.bootMs) {
      this.mode = 'booting';
      const chatter = setInterval(() => this.say('boot: rst:0x1 (POWERON_RESET),boot:0x13\r\n'), 20);
      this.later(this.opts.bootMs, () => {
        clearInterval(chatter);
        this.mode = 'friendly';
        this.say('MicroPython v1.27.0 on 2026-01-01; scripted peer\r\n>>> ');
      });
      this.timers.add(chatter);
    } else if (this.opts.chatty) {
      this.chatter = setInterval(() => this.say(this.opts.chatty!), 5);
    }
    if (this.opts.holdInputMs) {
      this.held = [];
      this.later(this.opts.holdInputMs, () => {
        const queued = Uint8Array.from(this.held!);
        this.held = undefined;
        this.feed(queued);
      });
    }
  }

  /** Drop the link now, as an unplugged board does. */
  hangUpNow(): void {
    this.hangUp();
  }

  stop(): void {
    clearInterval(this.chatter);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  feed(bytes: Uint8Array): void {
    if (this.held) {
      this.held.push(...bytes);
      return;
    }
    for (const b of bytes) {
      this.received.push(b);
      this.byte(b);
    }
  }

  private held: number[] | undefined;

  private say(text: string | Uint8Array): void {
    this.sink(typeof text === 'string' ? enc.encode(text) : text);
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private byte(b: number): void {
    if (this.opts.silent || this.mode === 'booting') return;
    if (this.opts.garbage) {
      this.say(Uint8Array.from([0xfe, 0x00, b ^ 0x5a, 0x1b]));
      return;
    }
    if (this.chatter && b === 0x03) {
      clearInterval(this.chatter);
      this.chatter = undefined;
      this.say('Traceback (most recent call last):\r\n  File "main.py", line 3, in <module>\r\nKeyboardInterrupt: \r\n>>> ');
      return;
    }
    switch (this.mode) {
      case 'friendly':
        return this.friendly(b);
      case 'raw':
        return this.raw(b);
      case 'paste':
        return this.paste(b);
      case 'paste-stopped':
        if (b === 0x04 || b === 0x03) this.finishPaste();
        return;
      case 'stdin':
        if (b !== 0x0a) {
          this.stdinLine.push(b);
          return;
        }
        this.mode = 'raw';
        this.say(Uint8Array.from([...enc.encode('got:'), ...this.stdinLine, 0x0d, 0x0a, 0x04, 0x04, 0x3e]));
        this.stdinLine = [];
        return;
      case 'running':
        if (b === 0x03) {
          this.say('\x04Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\nKeyboardInterrupt: \r\n\x04>');
          this.mode = 'raw';
        }
        return;
    }
  }

  private banner(): void {
    this.say(`raw REPL; CTRL-B to exit${this.opts.bannerEol}>`);
  }

  private friendly(b: number): void {
    if (b === 0x01) {
      this.mode = 'raw';
      this.line = [];
      this.say('\r\n');
      this.banner();
    } else if (b === 0x03) {
      this.say('\r\n>>> ');
    } else if (b === 0x02) {
      this.say('\r\nMicroPython v1.27.0 on 2026-01-01; scripted peer\r\nType "help()" for more information.\r\n>>> ');
    } else if (b !== 0x0d) {
      this.say(Uint8Array.from([b]));
    } else {
      this.say('\r\n>>> ');
    }
  }

  private raw(b: number): void {
    if (b === 0x01) {
      if (this.line.length === 2 && this.line[0] === 0x05 && this.opts.rawPaste !== 'old-firmware') {
        this.line = [];
        if (this.opts.rawPaste === 'refuse') {
          this.say('R\x00>');
          return;
        }
        this.pasteUsed++;
        this.mode = 'paste';
        this.pasteReceived = 0;
        this.pasteCredit = 2 * this.opts.window;
        const w = this.opts.window;
        this.say(Uint8Array.from([0x52, 0x01, w & 0xff, w >> 8, 0x01]));
        return;
      }
      this.line = [];
      this.banner();
    } else if (b === 0x02) {
      this.mode = 'friendly';
      this.friendly(0x02);
    } else if (b === 0x03) {
      this.line = [];
    } else if (b === 0x04) {
      this.say('OK');
      if (this.line.length === 0) {
        this.softResets++;
        this.say('\r\nMPY: soft reboot\r\nboot.py says hello\r\n');
        this.banner();
        return;
      }
      const code = dec.decode(Uint8Array.from(this.line));
      this.line = [];
      this.execute(code);
    } else {
      this.line.push(b);
    }
  }

  private paste(b: number): void {
    if (b === 0x04) {
      this.say('\x04');
      const code = dec.decode(Uint8Array.from(this.line));
      this.line = [];
      this.execute(code);
      return;
    }
    if (this.pasteCredit === 0) this.overruns++;
    else this.pasteCredit--;
    this.line.push(b);
    this.pasteReceived++;
    if (this.opts.stopPasteAfter !== undefined && this.pasteReceived === this.opts.stopPasteAfter) {
      this.say('\x04');
      this.mode = 'paste-stopped';
      return;
    }
    // The board hands out one more window each time it has consumed one.
    if (this.pasteReceived % this.opts.window === 0) {
      const grant = () => {
        this.pasteCredit += this.opts.window;
        this.say('\x01');
      };
      if (this.opts.creditDelayMs) this.later(this.opts.creditDelayMs, grant);
      else grant();
    }
  }

  private finishPaste(): void {
    this.line = [];
    this.say('\x04Traceback (most recent call last):\r\n  File "<stdin>", line 2\r\nSyntaxError: invalid syntax\r\n\x04>');
    this.mode = 'raw';
  }

  private execute(received: string): void {
    const sync = /^print\((\d+)\+1\)$/.exec(received);
    if (sync) {
      // The client's resync after a slow start (a fresh number, read back).
      this.mode = 'raw';
      this.say(`${Number(sync[1]) + 1}\r\n\x04\x04>`);
      return;
    }
    const code = unguard(received);
    if (typeof code !== 'string') {
      this.mode = 'raw';
      this.say(`\x04Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\n${code.error}\r\n\x04>`);
      return;
    }
    this.programs.push(code);
    const result = { ...(this.opts.run ?? defaultRun)(code) };
    // Under the guard the code runs in exec(): its frames are "<string>", below the guard's own frame.
    if (result.traceback && code !== received) {
      const guardLine = received.split('\n').length;
      result.traceback = result.traceback
        .replace(/File "<stdin>"/g, 'File "<string>"')
        .replace(/^(Traceback[^\n]*\n)/, `$1  File "<stdin>", line ${guardLine}, in <module>\r\n`);
    }
    if (result.disconnect) {
      this.hangUp();
      return;
    }
    if (result.forever || result.readsLine) {
      this.mode = result.forever ? 'running' : 'stdin';
      return;
    }
    this.mode = 'raw';
    for (const chunk of result.stdout ?? []) this.say(chunk);
    this.say('\x04');
    if (result.traceback) this.say(result.traceback);
    this.say('\x04>');
  }
}

const GUARD =
  /^exec\(\(lambda b:b\.decode\(\)if\(len\(b\),sum\(b\),sum\(sum\(b\[i:i\+8\]\)\*\(i\+1\)%65521 for i in range\(0,len\(b\),8\)\)\)==\((\d+),(\d+),(\d+)\)else\{\}\['boardctl: damaged command'\]\)\((r'''[\s\S]*?'''|r"""[\s\S]*?"""|"(?:[^"\\]|\\.)*")\.encode\(\)\)\)$/;

/** What a board makes of a program sent under boardctl's checksum guard: the code, or the error it raises. */
export function unguard(program: string): string | { error: string } {
  if (!program.startsWith('exec((lambda b:')) return program;
  const m = GUARD.exec(program);
  if (!m) return { error: 'SyntaxError: invalid syntax' };
  const lit = m[4]!;
  const code = lit.startsWith('r') ? lit.slice(4, -3) : (JSON.parse(lit.replace(/\\x([0-9a-f]{2})/gi, '\\u00$1')) as string);
  const sums = programChecksum(enc.encode(code));
  if (sums.join() !== [m[1], m[2], m[3]].join()) return { error: 'KeyError: boardctl: damaged command' };
  return code;
}

export interface PeerServer {
  port: number;
  url: string;
  /** The peer of the most recent connection. */
  readonly peer: ScriptedPeer | undefined;
  /** How many connections were accepted. */
  readonly connections: number;
  close(): Promise<void>;
}

/** Serve a fresh ScriptedPeer to every TCP connection (socket://127.0.0.1:PORT). */
export async function servePeer(options: PeerOptions = {}): Promise<PeerServer> {
  let last: ScriptedPeer | undefined;
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    connections++;
    socket.setNoDelay(true); // a board's UART does not batch small replies
    const peer = new ScriptedPeer((bytes) => socket.writable && socket.write(bytes), options, () => socket.destroy());
    last = peer;
    socket.on('data', (d) => peer.feed(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      peer.stop();
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `socket://127.0.0.1:${port}`,
    get peer() {
      return last;
    },
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
