// The client's side of the WebREPL's file-transfer records (../webrepl-records.ts), over the binary frames of a
// ws:// link: a version request first tells whether the peer answers them at all; then puts and gets, one at a
// time, as webrepl_cli.py does them.
import { BoardError } from '../errors.js';
import type { FileRecords } from '../transport.js';
import { GET_CHUNK, MAX_NAME, OP_GET, OP_PUT, OP_VERSION, decodeStatus, encodeRequest, type FileRequest } from '../webrepl-records.js';

/** A peer that has not answered the version request by then does not speak the records. */
const PROBE_MS = 2000;
/** Silence in the middle of a transfer this long means the board is gone. */
const STALL_MS = 15_000;
/** Bytes per binary frame of a put (the firmware reads its stream 512 bytes at a time, whatever the frames). */
const PUT_FRAME = 16 * 1024;
/** Chunk asks of a get in flight at most (the firmware answers each with up to GET_CHUNK bytes). */
const ASKS_AHEAD = 32;

export class RecordClient implements FileRecords {
  readonly maxName = MAX_NAME;
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private closed: Error | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private offered: Promise<boolean> | undefined;

  constructor(private readonly path: string, private readonly send: (bytes: Uint8Array) => Promise<void>) {}

  /** Bytes of a binary frame from the peer. */
  feed(bytes: Uint8Array): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, bytes]) : Buffer.from(bytes);
    this.waiter?.();
  }

  /** The link is gone: a transfer waiting for the board fails with `err`. */
  end(err: Error): void {
    this.closed = err;
    this.waiter?.();
  }

  available(): Promise<boolean> {
    this.offered ??= this.serial(async () => {
      await this.request({ op: OP_VERSION, name: '', size: 0 });
      try {
        await this.read(3, PROBE_MS);
        return true;
      } catch (err) {
        if (!(err instanceof BoardError) || err.code !== 'TIMEOUT') throw err;
        return false;
      }
    });
    return this.offered;
  }

  put(name: string, data: Uint8Array): Promise<number> {
    return this.serial(async () => {
      await this.request({ op: OP_PUT, name, size: data.length });
      const opened = await this.status();
      if (opened !== 0) return opened;
      for (let at = 0; at < data.length; at += PUT_FRAME) await this.send(data.subarray(at, at + PUT_FRAME));
      return this.status();
    });
  }

  get(name: string, size = 0): Promise<Uint8Array | number> {
    return this.serial(async () => {
      await this.request({ op: OP_GET, name, size: 0 });
      const opened = await this.status();
      if (opened !== 0) return opened;
      const parts: Buffer[] = [];
      let got = 0;
      let asked = 0;
      for (;;) {
        // Each 0 byte asks for one chunk; more asks than chunks would be read as the start of the next request,
        // so only as many go ahead as the expected size still needs (chunks are at most GET_CHUNK bytes), and
        // the asks past it (the end's empty chunk, a file that grew) go one at a time. Topped up in batches.
        const needed = Math.min(ASKS_AHEAD, Math.ceil((size - got) / GET_CHUNK));
        const n = asked === 0 ? Math.max(needed, 1) : asked <= ASKS_AHEAD / 2 ? Math.max(needed - asked, 0) : 0;
        if (n > 0) await this.send(new Uint8Array(n));
        asked += n;
        const len = (await this.read(2)).readUInt16LE(0);
        asked--;
        if (len === 0) break;
        parts.push(await this.read(len));
        got += len;
      }
      const end = await this.status();
      return end === 0 ? Buffer.concat(parts) : end;
    });
  }

  /** One operation at a time: the records share one byte stream. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async request(req: FileRequest): Promise<void> {
    const bytes = encodeRequest(req);
    if (!bytes) throw new BoardError('USAGE', `:${req.name}: longer than the WebREPL's ${MAX_NAME}-byte names`, { path: req.name });
    await this.send(bytes);
  }

  private async status(): Promise<number> {
    const r = await this.read(4);
    const code = decodeStatus(r);
    if (code === undefined) throw new BoardError('PROTOCOL', `${this.path}: expected a WebREPL status record, got ${r.toString('hex')}`, { port: this.path });
    return code;
  }

  private async read(n: number, timeoutMs = STALL_MS): Promise<Buffer> {
    while (this.buf.length < n) {
      if (this.closed) throw this.closed;
      const before = this.buf.length;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.waiter = () => (clearTimeout(timer), resolve());
      });
      this.waiter = undefined;
      if (this.buf.length === before && !this.closed) {
        throw new BoardError('TIMEOUT', `${this.path}: no WebREPL file record within ${timeoutMs} ms`, { port: this.path });
      }
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}
