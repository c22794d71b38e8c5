// Client for the ESP serial bootloader (ROM) and the flasher stub, over any Transport.
import { createHash } from 'node:crypto';
import { BoardError } from '../errors.js';
import type { Transport } from '../transport.js';
import {
  FLASH_SECTOR, Op, RAM_BLOCK, READ_SLOW_BLOCK, ROM_FLASH_BLOCK, ROM_STATUS_LEN, STUB_FLASH_BLOCK, STUB_STATUS_LEN,
  SYNC_PAYLOAD, ErrorCode, dataChecksum, opName,
} from './commands.js';
import {
  CHIP_DETECT_MAGIC_REG, ESP32_RTCCALICFG1, RTC_WDT_ARM, RTC_WDT_TIMEOUT_TICKS, RTC_WDT_WKEY, SECURITY_INFO_LEN,
  SPI_CMD_USR, SPI_USR_COMMAND, SPI_USR_MISO, SPI_USR_MOSI, chipByImageId, chipByMagic, esp32RomBaudValue,
  esp32RomCrystalHz, macFromEfuse, type ChipDef, type RtcWdtRegs,
} from './chips.js';
import { decodeResponse, encodeRequest, readU32le, splitStatus, u32le, type Response } from './packet.js';
import { slipEncode, SlipDecoder } from './slip.js';
import type { StubImage } from './stub.js';

export interface LoaderOptions {
  /** Default time to wait for a response. */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface SecurityInfo {
  flags: number;
  flashCryptCnt: number;
  keyPurposes: number[];
  chipId?: number;
  ecoVersion?: number;
}

export type Progress = (done: number, total: number) => void;

const DEFAULT_TIMEOUT_MS = 3000;
const SYNC_TIMEOUT_MS = 100;
/** The ROM and Espressif's stub both answer a SYNC eight times. */
const SYNC_REPLIES = 8;
const MB = 1024 * 1024;
// Slow operations scale with size (esptool's per-megabyte budgets).
const ERASE_MS_PER_MB = 30_000;
const MD5_MS_PER_MB = 8_000;
const CHIP_ERASE_MS = 120_000;
const RDID = 0x9f;

export function timeoutFor(msPerMb: number, bytes: number): number {
  return Math.max(DEFAULT_TIMEOUT_MS, Math.ceil((msPerMb * bytes) / MB));
}

export class EspLoader {
  chip?: ChipDef;
  isStub = false;
  /** Bytes received since the last resetCounters(), for "No serial data received" vs other failures. */
  bytesSeen = 0;
  /** Text seen outside SLIP frames (boot messages), bounded. */
  noise = '';
  /** Why the most recent undecodable frame was rejected. */
  lastBadFrame?: string;

  private readonly decoder = new SlipDecoder();
  private frames: Uint8Array[] = [];
  private wake?: () => void;
  private closedError?: Error;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly unsubscribe: (() => void)[];

  constructor(readonly transport: Transport, opts: LoaderOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.unsubscribe = [
      transport.onData((chunk) => this.receive(chunk)),
      transport.onClose((err) => {
        this.closedError = err ?? new Error('port closed');
        this.wake?.();
      }),
    ];
  }

  /** Stop listening to the transport (does not close it). */
  dispose(): void {
    for (const u of this.unsubscribe) u();
  }

  get statusLen(): number {
    return this.isStub ? STUB_STATUS_LEN : ROM_STATUS_LEN;
  }

  get flashBlockSize(): number {
    return this.isStub ? STUB_FLASH_BLOCK : ROM_FLASH_BLOCK;
  }

  private receive(chunk: Uint8Array): void {
    this.bytesSeen += chunk.length;
    const ev = this.decoder.push(chunk);
    if (ev.garbage.length) this.noise = (this.noise + Buffer.from(ev.garbage).toString('latin1')).slice(-4096);
    if (ev.frames.length) {
      this.frames.push(...ev.frames);
      this.wake?.();
    }
  }

  resetCounters(): void {
    this.bytesSeen = 0;
    this.noise = '';
    this.lastBadFrame = undefined;
  }

  flushInput(): void {
    this.frames = [];
    this.decoder.reset();
  }

  private nextFrame(timeoutMs: number): Promise<Uint8Array | undefined> {
    if (this.frames.length) return Promise.resolve(this.frames.shift());
    if (this.closedError) return Promise.reject(this.linkLost());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        if (this.frames.length) resolve(this.frames.shift());
        else reject(this.linkLost());
      };
    });
  }

  private linkLost(): BoardError {
    return new BoardError('LINK_LOST', `the link went away: ${this.closedError?.message ?? 'closed'}`, {}, { cause: this.closedError });
  }

  private async readFrame(timeoutMs: number, what: string): Promise<Uint8Array> {
    const f = await this.nextFrame(timeoutMs);
    if (!f) throw new BoardError('TIMEOUT', `Timed out waiting for ${what}`);
    return f;
  }

  async writeFrame(payload: Uint8Array): Promise<void> {
    await this.transport.write(slipEncode(payload));
  }

  /** Send one command and wait for the response with the same opcode (stray responses are skipped). */
  async command(op: number, data: Uint8Array, checksum = 0, timeoutMs = this.timeoutMs): Promise<Response> {
    await this.writeFrame(encodeRequest({ op, checksum, data }));
    const res = await this.response(op, timeoutMs);
    if (!res) throw new BoardError('TIMEOUT', `Timed out waiting for packet response to ${opName(op)}`, { op });
    return res;
  }

  /** The next response with this opcode within the time, skipping others; undefined on timeout. */
  private async response(op: number, timeoutMs: number): Promise<Response | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      const frame = left > 0 ? await this.nextFrame(left) : undefined;
      if (!frame) return undefined;
      const d = decodeResponse(frame);
      if (!d.ok) {
        this.lastBadFrame = d.reason;
        continue;
      }
      if (d.packet.op === op) return d.packet;
    }
  }

  private isAnswerTo(frame: Uint8Array, op: number): boolean {
    const d = decodeResponse(frame);
    return d.ok && d.packet.op === op;
  }

  /** command() plus status check; returns the value word and the payload without status bytes. */
  async check(what: string, op: number, data: Uint8Array, checksum = 0, timeoutMs = this.timeoutMs): Promise<{ value: number; payload: Uint8Array }> {
    return this.statusOf(what, op, await this.command(op, data, checksum, timeoutMs));
  }

  private statusOf(what: string, op: number, res: Response): { value: number; payload: Uint8Array } {
    // A reply too short for the ROM's 4 status bytes is the stub's 2 (esptool reads the status the same way):
    // a stub answering a host that did not sync (--before no-reset-no-sync) still gets understood.
    const split = splitStatus(res.data, res.data.length < this.statusLen ? STUB_STATUS_LEN : this.statusLen);
    if (!split) throw new BoardError('PROTOCOL', `${what}: response carries ${res.data.length} bytes, no status`, { op });
    if (!split.status.ok) {
      throw new BoardError('BOOTLOADER', `Failed to ${what}: ${split.status.text} (result was 0x${split.status.error.toString(16).padStart(2, '0')})`, {
        op, romError: split.status.error,
      });
    }
    return { value: res.value, payload: split.payload };
  }

  /**
   * A data command (FLASH_DATA, FLASH_DEFL_DATA) for each block, with up to `window` blocks sent ahead of their
   * answers, so the wire stays busy while the loader writes a block and its answer travels back. The loader
   * answers in order; an error status (NAK) or an answer that does not come (a frame lost on the line) fails the
   * write, naming the block it belongs to. `onAnswered(seq)` follows each answer.
   */
  async dataBlocks(op: number, blocks: readonly Uint8Array[], window: number, onAnswered?: (seq: number) => void, timeoutMs = this.timeoutMs): Promise<void> {
    const what = (seq: number) => `${op === Op.FLASH_DEFL_DATA ? 'write compressed data' : 'write'} to target flash after seq ${seq}`;
    let sent = 0;
    for (let seq = 0; seq < blocks.length; seq++) {
      for (; sent < blocks.length && sent < seq + Math.max(1, window); sent++) {
        const data = blocks[sent]!;
        await this.writeFrame(encodeRequest({ op, checksum: dataChecksum(data), data: dataPacket(data, sent) }));
      }
      const res = await this.response(op, timeoutMs);
      if (!res) throw new BoardError('TIMEOUT', `Timed out waiting for packet response to ${opName(op)} after seq ${seq}`, { op, seq });
      this.statusOf(what(seq), op, res);
      onAnswered?.(seq);
    }
  }

  /**
   * One SYNC attempt; true once the loader answers. Reads the eight answers as esptool does: the ROM's carry a
   * non-zero value, those of a flasher stub still running from an earlier session carry 0, and from then on the
   * loader speaks the stub's dialect (2 status bytes).
   */
  async sync(timeoutMs = SYNC_TIMEOUT_MS): Promise<boolean> {
    let first: Response;
    try {
      first = await this.command(Op.SYNC, SYNC_PAYLOAD, 0, timeoutMs);
    } catch (err) {
      if (err instanceof BoardError && err.code === 'TIMEOUT') return false;
      throw err;
    }
    let stub = first.value === 0;
    for (let i = 1; i < SYNC_REPLIES; i++) {
      const more = await this.response(Op.SYNC, timeoutMs);
      if (!more) break;
      stub &&= more.value === 0;
    }
    this.isStub = stub;
    return true;
  }

  async readReg(addr: number): Promise<number> {
    return (await this.check('read register', Op.READ_REG, u32le(addr))).value >>> 0;
  }

  async writeReg(addr: number, value: number, mask = 0xffffffff, delayUs = 0): Promise<void> {
    await this.check('write register', Op.WRITE_REG, u32le(addr, value, mask, delayUs));
  }

  /** esptool's watchdog reset: unlock the RTC watchdog, arm it to reset the whole chip soon, lock it again. */
  async watchdogReset(wdt: RtcWdtRegs): Promise<void> {
    await this.writeReg(wdt.wprotect, RTC_WDT_WKEY);
    await this.writeReg(wdt.config1, RTC_WDT_TIMEOUT_TICKS);
    await this.writeReg(wdt.config0, RTC_WDT_ARM);
    await this.writeReg(wdt.wprotect, 0);
  }

  /** GET_SECURITY_INFO, or undefined where the ROM does not have the command (ESP32). */
  async securityInfo(): Promise<SecurityInfo | undefined> {
    try {
      const { payload } = await this.check('get security info', Op.GET_SECURITY_INFO, new Uint8Array(0));
      if (payload.length < 12) throw new BoardError('PROTOCOL', `security info is ${payload.length} bytes`);
      const info: SecurityInfo = { flags: readU32le(payload, 0), flashCryptCnt: payload[4], keyPurposes: Array.from(payload.subarray(5, 12)) };
      if (payload.length >= SECURITY_INFO_LEN) {
        info.chipId = readU32le(payload, 3);
        info.ecoVersion = readU32le(payload, 4);
      }
      return info;
    } catch (err) {
      if (err instanceof BoardError && err.code === 'BOOTLOADER' && (err.details.romError === ErrorCode.INVALID_MESSAGE || err.details.romError === ErrorCode.CMD_NOT_IMPLEMENTED)) {
        return undefined;
      }
      throw err;
    }
  }

  /** Identify the chip by the security-info chip id, else by the magic word the ROM leaves at 0x40001000. */
  async detectChip(): Promise<ChipDef> {
    const info = await this.securityInfo();
    let chip = info?.chipId !== undefined ? chipByImageId(info.chipId) : undefined;
    if (!chip) {
      const magic = await this.readReg(CHIP_DETECT_MAGIC_REG);
      chip = chipByMagic(magic);
      if (!chip) {
        throw new BoardError('BOOTLOADER', `Unexpected chip magic value 0x${magic.toString(16).padStart(8, '0')}: unsupported chip`, { magic });
      }
    }
    this.chip = chip;
    return chip;
  }

  private requireChip(): ChipDef {
    if (!this.chip) throw new BoardError('INTERNAL', 'chip not detected yet');
    return this.chip;
  }

  async readMac(): Promise<Uint8Array> {
    const chip = this.requireChip();
    const low = await this.readReg(chip.macEfuse);
    const high = await this.readReg(chip.macEfuse + 4);
    return macFromEfuse(low, high);
  }

  /** Run one SPI flash command through the SPI peripheral's user-command registers. */
  async spiFlashCommand(command: number, readBits: number, data: Uint8Array = new Uint8Array(0)): Promise<number> {
    const { spi } = this.requireChip();
    const reg = (off: number) => spi.base + off;
    const oldUsr = await this.readReg(reg(spi.usr));
    const oldUsr2 = await this.readReg(reg(spi.usr2));
    const dataBits = data.length * 8;
    if (dataBits > 0) await this.writeReg(reg(spi.mosiDlen), dataBits - 1);
    if (readBits > 0) await this.writeReg(reg(spi.misoDlen), readBits - 1);
    let flags = SPI_USR_COMMAND;
    if (readBits > 0) flags |= SPI_USR_MISO;
    if (dataBits > 0) flags |= SPI_USR_MOSI;
    await this.writeReg(reg(spi.usr), flags >>> 0);
    await this.writeReg(reg(spi.usr2), ((7 << 28) | command) >>> 0);
    if (dataBits === 0) await this.writeReg(reg(spi.w0), 0);
    else {
      const padded = new Uint8Array(Math.ceil(data.length / 4) * 4);
      padded.set(data);
      for (let i = 0; i < padded.length / 4; i++) await this.writeReg(reg(spi.w0) + i * 4, readU32le(padded, i));
    }
    await this.writeReg(reg(0), SPI_CMD_USR);
    let done = false;
    for (let i = 0; i < 10 && !done; i++) done = ((await this.readReg(reg(0))) & SPI_CMD_USR) === 0;
    if (!done) throw new BoardError('BOOTLOADER', 'SPI command did not complete');
    const result = await this.readReg(reg(spi.w0));
    await this.writeReg(reg(spi.usr), oldUsr);
    await this.writeReg(reg(spi.usr2), oldUsr2);
    return readBits >= 32 ? result : result & ((1 << readBits) - 1);
  }

  /** JEDEC id: manufacturer in bits 0-7, memory type 8-15, capacity 16-23. */
  async flashId(): Promise<number> {
    return this.spiFlashCommand(RDID, 24);
  }

  async spiAttach(): Promise<void> {
    // The ROM takes a second word (legacy flag); the stub only the pin configuration.
    await this.check('attach SPI flash', Op.SPI_ATTACH, this.isStub ? u32le(0) : u32le(0, 0));
  }

  async spiSetParams(totalSize: number): Promise<void> {
    await this.check('set SPI params', Op.SPI_SET_PARAMS, u32le(0, totalSize, 64 * 1024, FLASH_SECTOR, 256, 0xffff));
  }

  private beginParams(size: number, blocks: number, blockSize: number, offset: number): Uint8Array {
    const withFlag = !this.isStub && this.requireChip().romBeginHasEncryptFlag;
    return withFlag ? u32le(size, blocks, blockSize, offset, 0) : u32le(size, blocks, blockSize, offset);
  }

  /** FLASH_BEGIN erases `size` bytes (rounded up to sectors) at `offset`; with zero blocks it is the ROM's erase. */
  async flashBegin(size: number, offset: number, blocks = Math.ceil(size / this.flashBlockSize)): Promise<void> {
    await this.check('enter flash download mode', Op.FLASH_BEGIN, this.beginParams(size, blocks, this.flashBlockSize, offset), 0, timeoutFor(ERASE_MS_PER_MB, size));
  }

  /** FLASH_END: 0 reboots (back into download mode), 1 runs the app in the ROM and keeps the stub in its loop. */
  async flashEnd(reboot = false): Promise<void> {
    await this.check('leave flash mode', Op.FLASH_END, u32le(reboot ? 0 : 1));
  }

  /** ROM: leave the loader and run the app from flash (esptool's `run`: FLASH_BEGIN(0) then FLASH_END(1)). */
  async runApp(): Promise<void> {
    await this.flashBegin(0, 0);
    await this.flashEnd(false);
  }

  /** Stub: reset back into the ROM loader (esptool's soft reset from the stub: FLASH_BEGIN(0) then FLASH_END(0)). */
  async rebootToRom(): Promise<void> {
    await this.flashBegin(0, 0);
    await this.flashEnd(true);
    this.isStub = false;
    this.flushInput();
  }

  async flashDeflBegin(size: number, compressedSize: number, offset: number): Promise<number> {
    const blocks = Math.ceil(compressedSize / this.flashBlockSize);
    // The stub wants the uncompressed length; the ROM wants the length to erase, in whole sectors.
    const writeSize = this.isStub ? size : Math.ceil(size / FLASH_SECTOR) * FLASH_SECTOR;
    await this.check('enter compressed flash mode', Op.FLASH_DEFL_BEGIN, this.beginParams(writeSize, blocks, this.flashBlockSize, offset), 0, timeoutFor(ERASE_MS_PER_MB, writeSize));
    return blocks;
  }

  async flashDeflEnd(reboot = false): Promise<void> {
    await this.check('leave compressed flash mode', Op.FLASH_DEFL_END, u32le(reboot ? 0 : 1));
  }

  /** MD5 of a flash region as lowercase hex (the ROM answers in hex text, the stub in 16 raw bytes). */
  async flashMd5(offset: number, size: number): Promise<string> {
    const { payload } = await this.check('calculate MD5', Op.SPI_FLASH_MD5, u32le(offset, size, 0, 0), 0, timeoutFor(MD5_MS_PER_MB, size));
    if (payload.length === 32) return Buffer.from(payload).toString('latin1').toLowerCase();
    if (payload.length === 16) return Buffer.from(payload).toString('hex');
    throw new BoardError('PROTOCOL', `MD5 response has ${payload.length} bytes`);
  }

  async readFlash(offset: number, size: number, onProgress?: Progress): Promise<Uint8Array> {
    return this.isStub ? this.readFlashStub(offset, size, onProgress) : this.readFlashSlow(offset, size, onProgress);
  }

  /** ROM read: 64 bytes per command (the ROM always returns a 64-byte buffer). */
  private async readFlashSlow(offset: number, size: number, onProgress?: Progress): Promise<Uint8Array> {
    const out = new Uint8Array(size);
    for (let done = 0; done < size;) {
      const n = Math.min(READ_SLOW_BLOCK, size - done);
      const { payload } = await this.check('read flash block', Op.READ_FLASH_SLOW, u32le(offset + done, n));
      if (payload.length < n) throw new BoardError('PROTOCOL', `Expected ${n} byte block, got ${payload.length} bytes. Serial errors?`);
      out.set(payload.subarray(0, n), done);
      done += n;
      onProgress?.(done, size);
    }
    return out;
  }

  /** Stub read: the stub streams sector-sized frames; each is acknowledged with the running total, then an MD5 frame. */
  private async readFlashStub(offset: number, size: number, onProgress?: Progress): Promise<Uint8Array> {
    await this.check('read flash', Op.READ_FLASH, u32le(offset, size, FLASH_SECTOR, 64));
    const out = new Uint8Array(size);
    let got = 0;
    while (got < size) {
      const frame = await this.readFrame(this.timeoutMs, 'flash data');
      if (got + frame.length > size) throw new BoardError('PROTOCOL', `Corrupt data: ${got + frame.length} bytes for a ${size}-byte read`);
      out.set(frame, got);
      got += frame.length;
      if (got < size && frame.length < FLASH_SECTOR) {
        throw new BoardError('PROTOCOL', `Corrupt data, expected 0x${size.toString(16)} bytes but received 0x${got.toString(16)} bytes`);
      }
      await this.writeFrame(u32le(got));
      onProgress?.(got, size);
    }
    const digest = await this.readFrame(this.timeoutMs, 'read flash digest');
    const local = createHash('md5').update(out).digest();
    if (digest.length !== 16 || !local.equals(digest)) {
      throw new BoardError('VERIFY_FAILED', 'Digest mismatch: flash read returned corrupted data', {
        expected: Buffer.from(digest).toString('hex'), actual: local.toString('hex'),
      });
    }
    return out;
  }

  async eraseFlash(): Promise<void> {
    await this.check('erase flash', Op.ERASE_FLASH, new Uint8Array(0), 0, CHIP_ERASE_MS);
  }

  async eraseRegion(offset: number, size: number): Promise<void> {
    await this.check('erase region', Op.ERASE_REGION, u32le(offset, size), 0, timeoutFor(ERASE_MS_PER_MB, size));
  }

  /**
   * CHANGE_BAUDRATE, then follow on our side. The stub also wants the current rate to recompute its divider. The
   * ESP32 ROM sets its divider from a crystal estimate off the RC oscillator, so it gets the rate scaled by that
   * estimate (esptool's correction from RTCCALICFG1 and eFuse word 4).
   */
  async changeBaud(baud: number): Promise<void> {
    let value = baud;
    const chip = this.chip;
    if (!this.isStub && chip?.key === 'esp32') {
      const cali = await this.readReg(ESP32_RTCCALICFG1);
      const ck8m = await this.readReg(chip.revisionEfuse + 16);
      const estimate = esp32RomCrystalHz(cali, ck8m);
      // Registers that read implausibly (an emulator, a damaged eFuse) would make the value 0: send the rate as is.
      if (estimate > 20e6 && estimate < 50e6) value = esp32RomBaudValue(baud, estimate);
    }
    await this.check('change baud rate', Op.CHANGE_BAUDRATE, u32le(value, this.isStub ? this.transport.baudRate : 0));
    await this.transport.setBaudRate(baud);
    await this.sleep(50); // the chip switches after answering; let stray bytes at the old rate drain
    this.flushInput();
  }

  async memBegin(size: number, blocks: number, blockSize: number, offset: number): Promise<void> {
    await this.check('enter RAM download mode', Op.MEM_BEGIN, u32le(size, blocks, blockSize, offset));
  }

  async memBlock(data: Uint8Array, seq: number): Promise<void> {
    await this.check('write to target RAM', Op.MEM_DATA, dataPacket(data, seq), dataChecksum(data));
  }

  /** MEM_END; with an entry point the ROM jumps there and may not answer at all. */
  async memEnd(entry = 0): Promise<void> {
    try {
      await this.check('leave RAM download mode', Op.MEM_END, u32le(entry === 0 ? 1 : 0, entry), 0, entry ? 200 : this.timeoutMs);
    } catch (err) {
      if (!(entry && err instanceof BoardError && err.code === 'TIMEOUT')) throw err;
    }
  }

  /** Upload and start the flasher stub; from then on speak its dialect. */
  async runStub(stub: StubImage): Promise<void> {
    for (const seg of stub.segments) {
      const blocks = Math.ceil(seg.data.length / RAM_BLOCK);
      await this.memBegin(seg.data.length, blocks, RAM_BLOCK, seg.address);
      for (let seq = 0; seq < blocks; seq++) await this.memBlock(seg.data.subarray(seq * RAM_BLOCK, (seq + 1) * RAM_BLOCK), seq);
    }
    await this.memEnd(stub.entry);
    let hello = await this.readFrame(this.timeoutMs, 'the stub to say hello');
    // memEnd waits 200 ms for the ROM's answer (as esptool); one that comes later (a slow link, a loaded host
    // running the board) is that answer, not the stub's hello, which follows it.
    if (this.isAnswerTo(hello, Op.MEM_END)) hello = await this.readFrame(this.timeoutMs, 'the stub to say hello');
    if (Buffer.from(hello).toString('latin1') !== 'OHAI') {
      throw new BoardError('BOOTLOADER', `Failed to start stub. Unexpected response: ${Buffer.from(hello).toString('hex')}`);
    }
    this.isStub = true;
  }
}

/** Data-command payload: length, sequence number, two zero words, then the data. */
function dataPacket(data: Uint8Array, seq: number): Uint8Array {
  const out = new Uint8Array(16 + data.length);
  out.set(u32le(data.length, seq, 0, 0));
  out.set(data, 16);
  return out;
}
