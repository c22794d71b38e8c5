// The board's side of the WebREPL file-transfer records (protocol/webrepl-records.ts) for one client: the
// binary frames' byte stream is parsed here, on the main thread, and the file itself is opened, written and
// read by the board's Python (webrepl.py's _transfer, through the worker), as the firmware's _webrepl opens it
// with the VM's open(). A failed open answers a non-zero status.
import { MICROPYTHON_VERSION } from '../rom/firmware.js';
import { GET_CHUNK, OP_PUT, OP_VERSION, REQUEST_BYTES, decodeRequest, encodeChunk, encodeStatus, type FileRequest } from '../../protocol/webrepl-records.js';

/** The board's end of a transfer (the worker); what it answers comes back through FileSession.fromBoard. */
export interface BoardFiles {
  begin(req: FileRequest): void;
  /** Bytes of the file being put. */
  data(bytes: Uint8Array): void;
  /** The client went away in the middle of a transfer. */
  abort(): void;
}

export type BoardAnswer = { kind: 'status'; code: number } | { kind: 'chunk'; data: Uint8Array };

const VERSION = Uint8Array.from(MICROPYTHON_VERSION.slice(1).split('.').map(Number));

type State = 'request' | 'opening' | 'put' | 'get' | 'closing';

export class FileSession {
  private state: State = 'request';
  private pending = Buffer.alloc(0);
  private req: FileRequest | undefined;
  private putLeft = 0;
  /** Get: file bytes the board has read, the 0-byte asks not answered yet, and whether the board read the end. */
  private got: Buffer[] = [];
  private gotBytes = 0;
  private asks = 0;
  private gotEnd = false;
  private endStatus: number | undefined;

  constructor(private readonly board: BoardFiles, private readonly send: (record: Uint8Array) => void) {}

  /** Bytes of the client's binary frames. */
  feed(bytes: Uint8Array): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, bytes]) : Buffer.from(bytes);
    this.step();
  }

  fromBoard(a: BoardAnswer): void {
    if (a.kind === 'chunk') {
      if (a.data.length === 0) this.gotEnd = true;
      else this.got.push(Buffer.from(a.data)), (this.gotBytes += a.data.length);
      return this.serveGet();
    }
    // A get's end status waits until the client has taken the last chunk.
    if (this.state === 'get') return void (this.endStatus = a.code);
    this.finish(a.code);
  }

  private finish(code: number): void {
    this.send(encodeStatus(code));
    if (this.state === 'opening' && code === 0) return this.opened();
    this.state = 'request';
    this.step();
  }

  /** The client is gone: a transfer under way stops on the board. */
  close(): void {
    if (this.state !== 'request') this.board.abort();
    this.state = 'request';
  }

  private opened(): void {
    const req = this.req!;
    if (req.op === OP_PUT) {
      this.state = 'put';
      this.putLeft = req.size;
    } else {
      this.state = 'get';
      this.got = [];
      this.gotBytes = 0;
      this.asks = 0;
      this.gotEnd = false;
      this.endStatus = undefined;
    }
    this.step();
  }

  private take(n: number): Buffer {
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    return out;
  }

  private step(): void {
    for (;;) {
      if (this.state === 'request') {
        if (this.pending.length < REQUEST_BYTES) return;
        const req = decodeRequest(this.take(REQUEST_BYTES));
        if (!req) continue; // not a request: the firmware would misread it; dropped here
        if (req.op === OP_VERSION) {
          this.send(VERSION);
          continue;
        }
        this.req = req;
        this.state = 'opening';
        this.board.begin(req);
        return;
      }
      if (this.state === 'put') {
        if (this.putLeft > 0 && this.pending.length) {
          const data = this.take(Math.min(this.putLeft, this.pending.length));
          this.putLeft -= data.length;
          this.board.data(data);
        }
        // The board closes the file after the last byte and answers the final status.
        if (this.putLeft === 0) this.state = 'closing';
        return;
      }
      if (this.state === 'get') {
        for (const b of this.take(this.pending.length)) if (b === 0) this.asks++;
        return this.serveGet();
      }
      return; // opening, closing: wait for the board
    }
  }

  private serveGet(): void {
    if (this.state !== 'get') return;
    while (this.asks > 0 && (this.gotBytes > 0 || this.gotEnd)) {
      this.asks--;
      if (this.gotBytes === 0) {
        this.send(encodeChunk(new Uint8Array(0)));
        this.state = 'closing';
        if (this.endStatus !== undefined) this.finish(this.endStatus);
        return;
      }
      const all = this.got.length === 1 ? this.got[0]! : Buffer.concat(this.got);
      const n = Math.min(GET_CHUNK, all.length);
      this.send(encodeChunk(all.subarray(0, n)));
      this.got = n < all.length ? [all.subarray(n)] : [];
      this.gotBytes -= n;
    }
  }
}
