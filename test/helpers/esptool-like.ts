// A scripted client that talks to a chip the way esptool v5 does (esptool/loader.py, cmds.py, targets/esp32.py),
// written independently of our flasher so the virtual board is checked against esptool's expectations, not ours:
// its strict SLIP reader (any byte outside a frame is "Invalid head of packet"), eight SYNC answers read one by
// one with 100 ms each, "Stub flasher is already running" when all eight carry value 0, --before
// no-reset-no-sync, check_command taking the status right after the expected payload, the ESP32 ROM
// CHANGE_BAUDRATE correction, the stub's acknowledged READ_FLASH, and --after hard-reset/no-reset/no-reset-stub.
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import type { Transport } from '../../protocol/transport.js';
import type { StubImage } from '../../protocol/esp/stub.js';

const OP = {
  FLASH_BEGIN: 0x02, FLASH_END: 0x04, MEM_BEGIN: 0x05, MEM_END: 0x06, MEM_DATA: 0x07, SYNC: 0x08, READ_REG: 0x0a,
  SPI_ATTACH: 0x0d, READ_FLASH_SLOW: 0x0e, CHANGE_BAUDRATE: 0x0f, FLASH_DEFL_BEGIN: 0x10, FLASH_DEFL_DATA: 0x11,
  FLASH_DEFL_END: 0x12, SPI_FLASH_MD5: 0x13, READ_FLASH: 0xd2,
} as const;
const MAGIC_REG = 0x40001000;
const ESP32_MAGIC = 0x00f01d83;
const ESP32_EFUSE = 0x3ff5a000;
const ESP32_RTCCALICFG1 = 0x3ff5f06c;
const SYNC_TIMEOUT = 100;
const DEFAULT_TIMEOUT = 3000;
// esptool waits 0.2 s for the ROM's MEM_END answer; a loaded CI machine can take longer, and a late answer would
// then be read where OHAI is expected.
const MEM_END_ROM_TIMEOUT = 2000;
const RAM_BLOCK = 0x1800;
const SECTOR = 0x1000;

export class EsptoolError extends Error {}

const pack = (...words: number[]) => {
  const b = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => b.writeUInt32LE(w >>> 0, i * 4));
  return b;
};
const checksum = (data: Uint8Array) => data.reduce((s, b) => s ^ b, 0xef);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type Before = 'default-reset' | 'no-reset' | 'no-reset-no-sync';
export type After = 'hard-reset' | 'no-reset' | 'no-reset-stub';

export interface EsptoolOptions {
  before?: Before;
  after?: After;
  /** --no-stub: stay in the ROM loader. */
  noStub?: boolean;
  /** -b: CHANGE_BAUDRATE to this rate after connecting. */
  baud?: number;
  stub: StubImage;
  connectAttempts?: number;
}

/** The port as pyserial shows it to esptool: an input buffer, read(timeout), flush. */
class Port {
  private buf: Buffer = Buffer.alloc(0);
  private wake?: () => void;
  private readonly off: () => void;

  constructor(readonly transport: Transport) {
    this.off = transport.onData((d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
  }

  /** Whatever is waiting, or (after up to `timeoutMs`) nothing. */
  async read(timeoutMs: number): Promise<Buffer> {
    if (this.buf.length === 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        this.wake = () => (clearTimeout(t), resolve());
      });
      this.wake = undefined;
    }
    const out = this.buf;
    this.buf = Buffer.alloc(0);
    return out;
  }

  flushInput(): void {
    this.buf = Buffer.alloc(0);
  }

  close(): void {
    this.off();
  }
}

export class EsptoolLike {
  isStub = false;
  syncStubDetected = false;
  chip = '';
  readonly log: string[] = [];
  private readonly port: Port;
  /** Bytes read but not yet framed (esptool's slip_reader generator state). */
  private pending: Buffer = Buffer.alloc(0);
  private successfulSlip = false;

  constructor(readonly transport: Transport) {
    this.port = new Port(transport);
  }

  close(): void {
    this.port.close();
  }

  /** esptool's slip_reader: one packet, strict about what comes between packets. */
  async read(timeoutMs = DEFAULT_TIMEOUT): Promise<Buffer> {
    let partial: number[] | undefined;
    let escape = false;
    for (;;) {
      if (this.pending.length === 0) this.pending = await this.port.read(timeoutMs);
      if (this.pending.length === 0) {
        if (partial === undefined) throw new EsptoolError(this.successfulSlip ? 'Serial data stream stopped: Possible serial noise or corruption.' : 'No serial data received.');
        throw new EsptoolError(`Packet content transfer stopped (received ${partial.length} bytes).`);
      }
      while (this.pending.length) {
        const b = this.pending[0]!;
        this.pending = this.pending.subarray(1);
        if (partial === undefined) {
          if (b !== 0xc0) throw new EsptoolError(`Invalid head of packet (0x${b.toString(16).padStart(2, '0')}): Possible serial noise or corruption.`);
          partial = [];
        } else if (escape) {
          escape = false;
          if (b === 0xdc) partial.push(0xc0);
          else if (b === 0xdd) partial.push(0xdb);
          else throw new EsptoolError(`Invalid SLIP escape (0xdb, 0x${b.toString(16)}).`);
        } else if (b === 0xdb) escape = true;
        else if (b === 0xc0) {
          this.successfulSlip = true;
          return Buffer.from(partial);
        } else partial.push(b);
      }
    }
  }

  private async write(packet: Uint8Array): Promise<void> {
    const body = Buffer.from(packet).toString('latin1').replace(/\xdb/g, '\xdb\xdd').replace(/\xc0/g, '\xdb\xdc');
    await this.transport.write(Buffer.from(`\xc0${body}\xc0`, 'latin1'));
  }

  private flushInput(): void {
    this.port.flushInput();
    this.pending = Buffer.alloc(0);
  }

  /** Send (if op is given) and read until a response with that op comes, up to 100 packets. */
  async command(op?: number, data: Uint8Array = Buffer.alloc(0), chk = 0, timeoutMs = DEFAULT_TIMEOUT): Promise<{ val: number; data: Buffer }> {
    if (op !== undefined) {
      const head = Buffer.alloc(8);
      head.writeUInt8(0, 0);
      head.writeUInt8(op, 1);
      head.writeUInt16LE(data.length, 2);
      head.writeUInt32LE(chk >>> 0, 4);
      await this.write(Buffer.concat([head, data]));
    }
    for (let retry = 0; retry < 100; retry++) {
      const p = await this.read(timeoutMs);
      if (p.length < 8 || p[0] !== 1) continue;
      const body = p.subarray(8);
      if (op === undefined || p[1] === op) return { val: p.readUInt32LE(4), data: body };
      if (body[0] !== 0 && body[1] === 0x05) throw new EsptoolError(`Unsupported command 0x${op.toString(16)}`);
    }
    throw new EsptoolError("Response doesn't match request.");
  }

  async checkCommand(what: string, op: number, data: Uint8Array = Buffer.alloc(0), chk = 0, respDataLen = 0, timeoutMs = DEFAULT_TIMEOUT): Promise<number | Buffer> {
    const { val, data: body } = await this.command(op, data, chk, timeoutMs);
    if (body.length < respDataLen + 2) {
      if (body[0] !== 0) throw new EsptoolError(`Failed to ${what} (result was ${body.subarray(0, 2).toString('hex')})`);
      throw new EsptoolError(`Failed to ${what}. Only got ${body.length} byte status response.`);
    }
    const status = body.subarray(respDataLen, respDataLen + 2);
    if (status[0] !== 0) throw new EsptoolError(`Failed to ${what} (result was ${status.toString('hex')})`);
    return respDataLen > 0 ? body.subarray(0, respDataLen) : val;
  }

  async sync(): Promise<void> {
    const payload = Buffer.from([0x07, 0x07, 0x12, 0x20, ...new Array<number>(32).fill(0x55)]);
    const first = await this.command(OP.SYNC, payload, 0, SYNC_TIMEOUT);
    this.syncStubDetected = first.val === 0;
    for (let i = 0; i < 7; i++) {
      const more = await this.command(undefined, undefined, 0, SYNC_TIMEOUT);
      this.syncStubDetected &&= more.val === 0;
    }
  }

  private async reset(attempt: number): Promise<void> {
    const t = this.transport;
    if (!t.hasControlLines) return; // a pty or a TCP socket: the reset toggles go nowhere
    if (attempt % 2 === 0) {
      // UnixTightReset: both lines in one step each time.
      for (const [dtr, rts, ms] of [[false, false, 0], [true, true, 0], [false, true, 100], [true, false, 50], [false, false, 0]] as const) {
        await t.setSignals({ dtr, rts });
        if (ms) await sleep(ms);
      }
    } else {
      await t.setSignals({ dtr: false });
      await t.setSignals({ rts: true });
      await sleep(100);
      await t.setSignals({ dtr: true });
      await t.setSignals({ rts: false });
      await sleep(50);
      await t.setSignals({ dtr: false });
    }
  }

  async connect(mode: Before = 'default-reset', attempts = 7): Promise<void> {
    if (mode === 'no-reset-no-sync') return;
    let last: Error | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (mode !== 'no-reset') {
        this.flushInput();
        await this.reset(attempt);
      }
      for (let i = 0; i < 5; i++) {
        try {
          this.flushInput();
          await this.sync();
          return;
        } catch (err) {
          last = err as Error;
          await sleep(50);
        }
      }
    }
    throw new EsptoolError(`Failed to connect to Espressif device: ${last?.message}`);
  }

  async readReg(addr: number): Promise<number> {
    return (await this.checkCommand('read target memory', OP.READ_REG, pack(addr))) as number;
  }

  async detectChip(): Promise<void> {
    const magic = await this.readReg(MAGIC_REG);
    this.chip = magic === ESP32_MAGIC ? 'ESP32' : `magic 0x${magic.toString(16)}`;
  }

  async runStub(stub: StubImage): Promise<void> {
    if (this.syncStubDetected) {
      this.log.push('Stub flasher is already running. No upload is necessary.');
      this.isStub = true;
      return;
    }
    for (const seg of stub.segments) {
      const blocks = Math.ceil(seg.data.length / RAM_BLOCK);
      await this.checkCommand('enter RAM download mode', OP.MEM_BEGIN, pack(seg.data.length, blocks, RAM_BLOCK, seg.address));
      for (let seq = 0; seq < blocks; seq++) {
        const block = seg.data.subarray(seq * RAM_BLOCK, (seq + 1) * RAM_BLOCK);
        await this.checkCommand('write to target RAM', OP.MEM_DATA, Buffer.concat([pack(block.length, seq, 0, 0), block]), checksum(block));
      }
    }
    try {
      await this.checkCommand('leave RAM download mode', OP.MEM_END, pack(0, stub.entry), 0, 0, MEM_END_ROM_TIMEOUT);
    } catch {
      // the ROM may jump to the stub before its answer leaves
    }
    const hello = await this.read();
    if (hello.toString('latin1') !== 'OHAI') throw new EsptoolError(`Failed to start stub flasher. Unexpected response: ${hello.toString('hex')}`);
    this.log.push('Stub flasher running.');
    this.isStub = true;
  }

  /** ESPLoader.change_baud, with ESP32ROM's correction for the ROM's crystal estimate. */
  async changeBaud(baud: number): Promise<void> {
    let value = baud;
    if (!this.isStub && this.chip === 'ESP32') {
      const cali = ((await this.readReg(ESP32_RTCCALICFG1)) >>> 7) & 0x1ffffff;
      const ck8m = (await this.readReg(ESP32_EFUSE + 16)) & 0xff;
      const romFreq = (cali * 15625 * ck8m) / 40;
      const valid = romFreq > 33e6 ? 40e6 : 26e6;
      value = Math.floor((baud * romFreq) / valid);
    }
    await this.command(OP.CHANGE_BAUDRATE, pack(value, this.isStub ? this.transport.baudRate : 0));
    await this.transport.setBaudRate(baud);
    await sleep(50);
    this.flushInput();
  }

  async spiAttach(): Promise<void> {
    await this.checkCommand('configure SPI flash pins', OP.SPI_ATTACH, this.isStub ? pack(0) : pack(0, 0));
  }

  async readMac(): Promise<string> {
    const w1 = await this.readReg(ESP32_EFUSE + 4);
    const w2 = await this.readReg(ESP32_EFUSE + 8);
    const b = Buffer.alloc(8);
    b.writeUInt32BE(w2, 0);
    b.writeUInt32BE(w1, 4);
    return [...b.subarray(2)].map((x) => x.toString(16).padStart(2, '0')).join(':');
  }

  private async flashBegin(size: number, offset: number, op: number = OP.FLASH_BEGIN, blocks = 0, writeSize = size): Promise<void> {
    const params = [writeSize, blocks, this.flashWriteSize, offset];
    if (this.isStub) params.push(0); // esptool v5 sends the encryption flag to the stub too (not to the ESP32 ROM)
    await this.checkCommand('enter flash download mode', op, pack(...params), 0, 0, DEFAULT_TIMEOUT * 10);
  }

  private get flashWriteSize(): number {
    return this.isStub ? 0x4000 : 0x400;
  }

  async md5(offset: number, size: number): Promise<string> {
    const res = (await this.checkCommand('calculate md5sum', OP.SPI_FLASH_MD5, pack(offset, size, 0, 0), 0, this.isStub ? 16 : 32, 30_000)) as Buffer;
    return this.isStub ? res.toString('hex') : res.toString('latin1');
  }

  /** write-flash -z: deflate, FLASH_DEFL_* blocks, MD5 check, and with the stub the FLASH_BEGIN(0)+DEFL_END(1). */
  async writeFlash(offset: number, data: Uint8Array): Promise<void> {
    const packed = deflateSync(data, { level: 9 });
    const bs = this.flashWriteSize;
    const blocks = Math.ceil(packed.length / bs);
    const writeSize = this.isStub ? data.length : Math.ceil(data.length / bs) * bs;
    await this.flashBegin(data.length, offset, OP.FLASH_DEFL_BEGIN, blocks, writeSize);
    for (let seq = 0; seq < blocks; seq++) {
      const block = packed.subarray(seq * bs, (seq + 1) * bs);
      await this.checkCommand(`write compressed data to flash after seq ${seq}`, OP.FLASH_DEFL_DATA, Buffer.concat([pack(block.length, seq, 0, 0), block]), checksum(block), 0, 10_000);
    }
    const expected = createHash('md5').update(data).digest('hex');
    const actual = await this.md5(offset, data.length);
    if (actual !== expected) throw new EsptoolError(`MD5 of file does not match data in flash! (${actual} vs ${expected})`);
    if (this.isStub) {
      await this.flashBegin(0, 0);
      await this.checkCommand('leave compressed flash mode', OP.FLASH_DEFL_END, pack(1));
    }
  }

  async readFlash(offset: number, length: number): Promise<Buffer> {
    if (!this.isStub) {
      const parts: Buffer[] = [];
      for (let done = 0; done < length;) {
        const n = Math.min(64, length - done);
        const r = (await this.checkCommand('read flash block', OP.READ_FLASH_SLOW, pack(offset + done, n), 0, 64)) as Buffer;
        parts.push(r.subarray(0, n));
        done += n;
      }
      return Buffer.concat(parts);
    }
    await this.checkCommand('read flash', OP.READ_FLASH, pack(offset, length, SECTOR, 64));
    const parts: Buffer[] = [];
    let got = 0;
    while (got < length) {
      const p = await this.read(3000);
      parts.push(p);
      got += p.length;
      if (got < length && p.length < SECTOR) throw new EsptoolError(`Corrupt data, expected 0x${SECTOR.toString(16)} bytes but received 0x${p.length.toString(16)} bytes.`);
      await this.write(pack(got));
    }
    const data = Buffer.concat(parts);
    if (data.length > length) throw new EsptoolError('Read more than expected.');
    const digest = await this.read();
    if (digest.length !== 16 || !digest.equals(createHash('md5').update(data).digest())) throw new EsptoolError('Digest mismatch');
    return data;
  }

  /** The esptool `run` command in the ROM: FLASH_BEGIN(0) + FLASH_END(1). */
  async run(): Promise<void> {
    await this.flashBegin(0, 0);
    await this.checkCommand('leave flash download mode', OP.FLASH_END, pack(1));
  }

  async after(mode: After): Promise<void> {
    if (mode === 'hard-reset') {
      this.log.push('Hard resetting via RTS pin...');
      if (this.transport.hasControlLines) {
        await this.transport.setSignals({ rts: true });
        await sleep(100);
        await this.transport.setSignals({ rts: false });
      }
    } else if (mode === 'no-reset') {
      this.log.push('Staying in bootloader.');
      if (this.isStub) {
        await this.flashBegin(0, 0);
        await this.checkCommand('leave flash download mode', OP.FLASH_END, pack(0));
      }
    } else this.log.push('Staying in flasher stub.');
  }
}

/** One esptool invocation: connect, detect, stub unless --no-stub, -b, SPI attach, the command, --after. */
export async function esptool<T>(transport: Transport, opts: EsptoolOptions, command: (esp: EsptoolLike) => Promise<T>): Promise<{ result: T; log: string[] }> {
  const esp = new EsptoolLike(transport);
  try {
    await esp.connect(opts.before, opts.connectAttempts);
    await esp.detectChip();
    if (!opts.noStub) await esp.runStub(opts.stub);
    if (opts.baud) await esp.changeBaud(opts.baud);
    await esp.spiAttach();
    const result = await command(esp);
    await esp.after(opts.after ?? 'hard-reset');
    return { result, log: esp.log };
  } finally {
    esp.close();
  }
}
