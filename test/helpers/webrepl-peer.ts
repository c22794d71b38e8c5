// A scripted WebREPL client for tests, speaking the file-transfer records as micropython/webrepl's
// webrepl_cli.py does (struct "<2sBBQLH64s": 'WA', op, flags, offset, size, name length, name), packed here by
// hand rather than with protocol/webrepl-records.ts, so a fault in our codec cannot hide on both ends.
import WebSocket from 'ws';

export class WebReplPeer {
  private text = '';
  private bin = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  closed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.bin = Buffer.concat([this.bin, data]);
      else this.text += data.toString('latin1');
      this.wake?.();
    });
    ws.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  /** Connect and log in; rejects when the board refuses or drops the connection. */
  static async login(url: string, password: string): Promise<WebReplPeer> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    // Listening from the start: the prompt may come in the same read as the handshake's answer.
    const peer = new WebReplPeer(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await peer.untilText('Password: ');
    ws.send(`${password}\r`);
    await peer.untilText('WebREPL connected');
    // The firmware never echoes the password.
    if (peer.text.includes(password)) throw new Error(`the board echoed the password: ${JSON.stringify(peer.text)}`);
    return peer;
  }

  private async until(ready: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!ready()) {
      if (this.closed) throw new Error(`connection closed waiting for ${what}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms (text: ${JSON.stringify(this.text.slice(-200))})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => (clearTimeout(t), resolve());
      });
    }
  }

  async untilText(s: string): Promise<string> {
    await this.until(() => this.text.includes(s), JSON.stringify(s));
    return this.text;
  }

  /** The next n bytes of binary frames. */
  async read(n: number): Promise<Buffer> {
    await this.until(() => this.bin.length >= n, `${n} binary bytes`);
    const out = this.bin.subarray(0, n);
    this.bin = this.bin.subarray(n);
    return out;
  }

  private request(op: number, name: string, size = 0): void {
    const rec = Buffer.alloc(82);
    rec.write('WA', 0, 'latin1');
    rec.writeUInt8(op, 2);
    rec.writeUInt32LE(size, 12);
    rec.writeUInt16LE(Buffer.byteLength(name), 16);
    rec.write(name, 18, 'utf8');
    this.ws.send(rec);
  }

  /** A 'WB' status record's code. */
  async status(): Promise<number> {
    const r = await this.read(4);
    if (r.toString('latin1', 0, 2) !== 'WB') throw new Error(`not a status record: ${r.toString('hex')}`);
    return r.readUInt16LE(2);
  }

  async version(): Promise<number[]> {
    this.request(3, '');
    return [...(await this.read(3))];
  }

  /** Put a file as webrepl_cli.py does (1 KB frames); the two statuses. */
  async put(name: string, data: Buffer): Promise<[number, number?]> {
    this.request(1, name, data.length);
    const first = await this.status();
    if (first !== 0) return [first];
    for (let at = 0; at < data.length; at += 1024) this.ws.send(data.subarray(at, at + 1024));
    return [first, await this.status()];
  }

  /** Get a file: its bytes, the largest chunk the board sent, and the statuses. */
  async get(name: string): Promise<{ status: number; data?: Buffer; biggest?: number; end?: number }> {
    this.request(2, name);
    const status = await this.status();
    if (status !== 0) return { status };
    const parts: Buffer[] = [];
    let biggest = 0;
    for (;;) {
      this.ws.send(Buffer.of(0));
      const n = (await this.read(2)).readUInt16LE(0);
      if (n === 0) break;
      biggest = Math.max(biggest, n);
      parts.push(await this.read(n));
    }
    return { status, data: Buffer.concat(parts), biggest, end: await this.status() };
  }

  /** Text the board sent so far. */
  output(): string {
    return this.text;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}
