// What the firmware offers for file transfer, probed once per connection and remembered per Board.
import type { Board } from '../board.js';
import { outputLines, parsePyStr } from './py-repr.js';
import { probeSource, stdinEchoSource } from './snippets.js';
import { escapeBytes, stdoutLines, stdoutMarker, unescapeBytes } from './wire.js';

/** How upload data reaches the board: escaped raw bytes or base64 on stdin, or chunks of code (slowest). */
export type UploadChannel = 'raw' | 'base64' | 'exec';
/** How download data leaves the board: escaped raw bytes on sys.stdout.buffer, or base64 text. */
export type DownloadChannel = 'raw' | 'base64';

export interface FsCapabilities {
  cwd: string;
  hashlib: boolean;
  binascii: boolean;
  deflate: boolean;
  upload: UploadChannel;
  download: DownloadChannel;
}

const cache = new WeakMap<Board, Promise<FsCapabilities>>();

export function boardCapabilities(board: Board): Promise<FsCapabilities> {
  let caps = cache.get(board);
  if (!caps) {
    caps = probe(board);
    cache.set(board, caps);
    caps.catch(() => cache.delete(board));
  }
  return caps;
}

const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

/** Every byte value the escaping lets through, once, so the echo shows whether the link is transparent. */
function echoPattern(): Uint8Array {
  return escapeBytes(ALL_BYTES);
}

async function probe(board: Board): Promise<FsCapabilities> {
  // The probe ends with every byte value escaped for a raw download; the raw stdout bytes show whether
  // they arrive intact (the text stdout is UTF-8 decoded, so it cannot tell).
  const marker = stdoutMarker();
  let pattern: Uint8Array | undefined;
  const onStdoutBytes = stdoutLines(marker, (line) => {
    if (line.length && !pattern) pattern = unescapeBytes(line);
  });
  const { stdout } = await board.exec(probeSource(marker), { onStdoutBytes });
  const lines = outputLines(stdout);
  const mods = new Set((lines.find((l) => l.startsWith('C')) ?? '').split(' ').slice(1));
  const cwd = parsePyStr(lines.find((l) => l.startsWith("'") || l.startsWith('"')) ?? "'/'").value || '/';
  const caps: FsCapabilities = {
    cwd,
    hashlib: mods.has('hashlib') && mods.has('binascii'),
    binascii: mods.has('binascii'),
    deflate: mods.has('deflate'),
    upload: 'exec',
    download: pattern && Buffer.from(pattern).equals(ALL_BYTES) ? 'raw' : 'base64',
  };
  if (mods.has('stdin')) {
    const link = await stdinLink(board);
    if (link === 'transparent') caps.upload = 'raw';
    else if (link === 'lossy' && caps.binascii) caps.upload = 'base64';
  }
  return caps;
}

/** transparent: every byte arrives as sent; lossy: readable but bytes change; broken: cannot read at all. */
async function stdinLink(board: Board): Promise<'transparent' | 'lossy' | 'broken'> {
  const pattern = echoPattern();
  let out = '';
  const seen = (marker: string) =>
    new Promise<void>((resolve) => {
      const check = () => (out.includes(marker) ? resolve() : setTimeout(check, 5));
      check();
    });
  // A link that drops bytes leaves the reader waiting: Ctrl-C it after a while instead of hanging.
  const stop = new AbortController();
  const run = await board.start(stdinEchoSource(pattern.length), { signal: stop.signal, onStdout: (t) => (out += t) });
  const timer = setTimeout(() => stop.abort(), 3000);
  try {
    await Promise.race([seen('R'), run.done]);
    await run.write(Uint8Array.of(0x21));
    await Promise.race([seen('G'), run.done]);
    if (!out.includes('G')) throw new Error('stdin unreadable');
    await run.write(pattern);
    const { stdout } = await run.done;
    return (outputLines(stdout).at(-1) ?? '') === Buffer.from(pattern).toString('hex') ? 'transparent' : 'lossy';
  } catch {
    await run.done.catch(() => {});
    // Whatever we sent after the program died sits in the raw REPL's line buffer: Ctrl-C clears it.
    await board.interrupt();
    return 'broken';
  } finally {
    clearTimeout(timer);
  }
}
