// The virtual chip's serial download mode: the mask-ROM loader, and the flasher stub once a host uploads one
// (recognised by MEM_END with an entry point; the stub's behaviour is emulated here, the uploaded code is never
// run). Link bytes in via receive(), reply bytes out via onSend listeners, whose promises are awaited where the
// silicon waits for its UART (streamed reads, the switch after CHANGE_BAUDRATE, leaving the loader).
import { createHash } from 'node:crypto';
import { createInflate, type Inflate } from 'node:zlib';
import type { FlashStore } from '../flash-store.js';
import type { BoardProfile } from '../profiles.js';
import {
  ErrorCode, FLASH_SECTOR, Op, READ_SLOW_BLOCK, ROM_STATUS_LEN, STUB_STATUS_LEN, SYNC_PAYLOAD, dataChecksum,
} from '../../protocol/esp/commands.js';
import {
  CHIP_DETECT_MAGIC_REG, ESP32_RTCCALICFG1, RTC_WDT_WKEY, SECURITY_INFO_LEN, chipByName,
  esp32RomCrystalHz, esp32RomLineRate, type ChipDef,
} from '../../protocol/esp/chips.js';
import { decodeRequest, encodeResponse, readU32le, statusBytes, type Request } from '../../protocol/esp/packet.js';
import { slipEncode, SlipDecoder } from '../../protocol/esp/slip.js';
import { chipWords } from './chip-registers.js';
import { SpiPeripheral } from './spi-peripheral.js';

export interface EspRomOptions {
  flash: FlashStore;
  profile: BoardProfile;
  /** Factory MAC burnt into eFuse, 6 bytes. */
  mac: Uint8Array;
  /** Line speed the ROM auto-bauded to (only used for the UART divider register esptool reads). */
  baudRate?: number;
}

/**
 * Why the loader stopped. 'run-app': the ROM's FLASH_END(1) ("run user code"); 'run-user-code': the stub's
 * RUN_USER_CODE; 'reboot': FLASH_END(0) in the ROM or the stub, a software reset that keeps the latched boot
 * mode: the loader starts over as the ROM in download mode (this object carries on; the board prints the log);
 * 'rtc-wdt': the RTC watchdog a host armed with WRITE_REG ran out (esptool's watchdog reset): a whole-chip reset,
 * the boot mode sampled anew.
 */
export type ExitReason = 'run-app' | 'reboot' | 'run-user-code' | 'rtc-wdt';

export type SendListener = (data: Uint8Array) => void | Promise<void>;

const ROM_SYNC_VALUE = 0x20120707;
/** The C3's and S3's RTC slow clock (the internal RC oscillator), cycles per ms: the watchdog's stage timeouts count it. */
const RTC_SLOW_PER_MS = 136;
/** RTC_CNTL_WDT_STG0_HOLD's reset value, cycles. */
const RTC_WDT_STG0_RESET_HOLD = 200_000;
const SYNC_REPLIES = 8;

class CommandError extends Error {
  constructor(readonly code: number) {
    super(`loader error 0x${code.toString(16)}`);
  }
}

interface PlainWrite {
  kind: 'plain';
  offset: number;
  end: number;
  blockSize: number;
}

interface DeflateWrite {
  kind: 'deflate';
  cursor: number;
  end: number;
  inflate: Inflate;
  error?: Error;
}

interface StubRead {
  acked: number;
  wake?: () => void;
}

export class EspRom {
  private readonly flash: FlashStore;
  private readonly chip: ChipDef;
  private readonly spi: SpiPeripheral;
  private readonly fixedRegs: ReadonlyMap<number, number>;
  private readonly regs = new Map<number, number>();
  private readonly decoder = new SlipDecoder();
  private readonly sendListeners: SendListener[] = [];
  private readonly baudListeners: ((baud: number) => void)[] = [];
  private readonly exitListeners: ((why: ExitReason) => void)[] = [];
  private queue: Promise<void> = Promise.resolve();
  private baud: number;
  private stub = false;
  /** The ROM reaches the SPI flash only after SPI_ATTACH routes its pins; the stub attaches at start. */
  private spiAttached = false;
  private write?: PlainWrite | DeflateWrite;
  /** Between MEM_BEGIN and MEM_END. The uploaded bytes are not kept: nothing runs them. */
  private inRamDownload = false;
  private read?: StubRead;
  private exited = false;
  private watchdog?: NodeJS.Timeout;

  constructor(opts: EspRomOptions) {
    const chip = opts.profile.espChip ? chipByName(opts.profile.espChip) : undefined;
    if (!chip) throw new Error(`profile '${opts.profile.name}' has no ESP serial bootloader`);
    if (opts.mac.length !== 6) throw new Error('MAC must be 6 bytes');
    this.chip = chip;
    this.flash = opts.flash;
    this.fixedRegs = chipWords(chip, opts.mac);
    this.baud = opts.baudRate ?? 115200;
    this.spi = new SpiPeripheral(chip.spi, opts.flash.size, chip.key === 'esp32');
  }

  /** True once a stub has been "started"; replies then carry 2 status bytes. */
  get isStub(): boolean {
    return this.stub;
  }

  /** Called with every reply; a returned promise tells the loader when the bytes have left its UART. */
  onSend(listener: SendListener): void {
    this.sendListeners.push(listener);
  }

  /** Called after CHANGE_BAUDRATE has been answered (and sent) at the old rate, with the new line rate. */
  onBaudRate(listener: (baud: number) => void): void {
    this.baudListeners.push(listener);
  }

  /** Called when the loader stops (after its last reply has been sent). */
  onExit(listener: (why: ExitReason) => void): void {
    this.exitListeners.push(listener);
  }

  /** The chip stops being in download mode (reset, power off): nothing it armed fires later. */
  close(): void {
    this.exited = true;
    clearTimeout(this.watchdog);
  }

  /** Bytes from the link. Commands are handled in arrival order; replies may follow asynchronously. */
  receive(data: Uint8Array): void {
    for (const frame of this.decoder.push(data).frames) {
      // While the stub streams a read, the host's frames are 4-byte acknowledgements, taken as they come.
      if (this.read) {
        if (frame.length === 4) this.acknowledge(readU32le(frame, 0));
        continue;
      }
      this.queue = this.queue.then(() => this.handleFrame(frame)).catch(() => undefined);
    }
  }

  /** Resolves when every command received so far has been answered. */
  idle(): Promise<void> {
    return this.queue;
  }

  private async emit(payload: Uint8Array): Promise<void> {
    const bytes = slipEncode(payload);
    await Promise.all(this.sendListeners.map((l) => l(bytes)));
  }

  private get statusLen(): number {
    return this.stub ? STUB_STATUS_LEN : ROM_STATUS_LEN;
  }

  private reply(op: number, value = 0, payload: Uint8Array = new Uint8Array(0), error = 0): Promise<void> {
    const data = new Uint8Array(payload.length + this.statusLen);
    data.set(payload);
    data.set(statusBytes(this.statusLen, error), payload.length);
    return this.emit(encodeResponse({ op, value, data }));
  }

  private async handleFrame(frame: Uint8Array): Promise<void> {
    if (this.exited) return;
    const d = decodeRequest(frame);
    if (!d.ok) return; // the silicon ignores what it cannot parse
    const req = d.packet;
    try {
      await this.dispatch(req);
    } catch (err) {
      const code = err instanceof CommandError ? err.code : ErrorCode.FAILED_TO_ACT;
      await this.reply(req.op, 0, new Uint8Array(0), code);
    }
  }

  private err(rom: number, stub: number): CommandError {
    return new CommandError(this.stub ? stub : rom);
  }

  private params(req: Request, words: number): number[] {
    if (req.data.length < words * 4) throw this.err(ErrorCode.INVALID_MESSAGE, ErrorCode.BAD_DATA_LEN);
    return Array.from({ length: words }, (_, i) => readU32le(req.data, i));
  }

  private checkRange(offset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > this.flash.size) throw this.err(ErrorCode.FAILED_TO_ACT, ErrorCode.FAILED_SPI_OP);
  }

  private async dispatch(req: Request): Promise<void> {
    switch (req.op) {
      case Op.SYNC: return this.sync(req);
      case Op.READ_REG: return this.reply(req.op, this.readReg(this.params(req, 1)[0]));
      case Op.WRITE_REG: return this.writeReg(req);
      case Op.SPI_ATTACH:
        this.params(req, 1);
        this.attachSpi();
        return this.reply(req.op);
      case Op.SPI_SET_PARAMS: return this.reply(req.op);
      case Op.GET_SECURITY_INFO: return this.securityInfo(req);
      case Op.FLASH_BEGIN: return this.flashBegin(req);
      case Op.FLASH_DATA: return this.flashData(req);
      case Op.FLASH_DEFL_BEGIN: return this.deflBegin(req);
      case Op.FLASH_DEFL_DATA: return this.deflData(req);
      case Op.FLASH_END:
      case Op.FLASH_DEFL_END: return this.flashEnd(req);
      case Op.SPI_FLASH_MD5: return this.md5(req);
      case Op.READ_FLASH_SLOW: return this.readSlow(req);
      case Op.CHANGE_BAUDRATE: return this.changeBaud(req);
      case Op.MEM_BEGIN: return this.memBegin(req);
      case Op.MEM_DATA: return this.memData(req);
      case Op.MEM_END: return this.memEnd(req);
    }
    if (this.stub) {
      switch (req.op) {
        case Op.ERASE_FLASH:
          this.eraseFlash(0, this.flash.size);
          return this.reply(req.op);
        case Op.ERASE_REGION: return this.eraseRegion(req);
        case Op.READ_FLASH: return this.streamRead(req);
        case Op.RUN_USER_CODE: return this.leave('run-user-code');
      }
    }
    throw this.err(ErrorCode.INVALID_MESSAGE, ErrorCode.CMD_NOT_IMPLEMENTED);
  }

  private async sync(req: Request): Promise<void> {
    if (req.data.length !== SYNC_PAYLOAD.length || !req.data.every((b, i) => b === SYNC_PAYLOAD[i])) {
      throw this.err(ErrorCode.INVALID_MESSAGE, ErrorCode.BAD_DATA_LEN);
    }
    // Both answer every SYNC eight times: the ROM with a non-zero value, Espressif's stub with 0, which is how
    // esptool recognises a stub still running from an earlier session.
    const value = this.stub ? 0 : ROM_SYNC_VALUE;
    const replies: Promise<void>[] = [];
    for (let i = 0; i < SYNC_REPLIES; i++) replies.push(this.reply(req.op, value));
    await Promise.all(replies);
  }

  private attachSpi(): void {
    this.spiAttached = true;
    this.spi.attached = true;
  }

  private readReg(addr: number): number {
    if (addr === CHIP_DETECT_MAGIC_REG) return this.chip.magic[0];
    // esptool estimates the crystal as baud * divider / 1e6.
    if (addr === this.chip.uartClkdiv) return Math.round((this.chip.xtalMhz * 1e6) / this.baud) & 0xfffff;
    if (this.spi.owns(addr)) return this.spi.read(addr);
    return this.fixedRegs.get(addr) ?? this.regs.get(addr) ?? 0;
  }

  private writeReg(req: Request): Promise<void> {
    const [addr, value, mask] = this.params(req, 3);
    const merged = ((this.readReg(addr) & ~mask) | (value & mask)) >>> 0;
    if (this.spi.owns(addr)) this.spi.write(addr, merged);
    else if (!this.writeProtected(addr)) {
      this.regs.set(addr, merged);
      if (addr === this.chip.rtcWdt?.config0) this.armWatchdog(merged);
    }
    return this.reply(req.op);
  }

  /**
   * The chip's fixed words (eFuse read registers: MAC, revision; APB_CTL_DATE) ignore writes, and the RTC
   * watchdog's configuration takes them only while its WPROTECT register holds the key.
   */
  private writeProtected(addr: number): boolean {
    const wdt = this.chip.rtcWdt;
    if (this.fixedRegs.has(addr)) return true;
    return !!wdt && (addr === wdt.config0 || addr === wdt.config1) && this.regs.get(wdt.wprotect) !== RTC_WDT_WKEY;
  }

  /** CONFIG0 with the enable bit and a stage-0 action resets the chip once stage 0's hold time has run out. */
  private armWatchdog(config0: number): void {
    clearTimeout(this.watchdog);
    if (!(config0 >>> 31) || !((config0 >>> 28) & 0x7)) return;
    const hold = this.regs.get(this.chip.rtcWdt!.config1) ?? RTC_WDT_STG0_RESET_HOLD;
    this.watchdog = setTimeout(() => this.leave('rtc-wdt'), hold / RTC_SLOW_PER_MS);
  }

  private securityInfo(req: Request): Promise<void> {
    if (!this.chip.hasSecurityInfo) throw new CommandError(this.stub ? ErrorCode.CMD_NOT_IMPLEMENTED : ErrorCode.INVALID_MESSAGE);
    const info = new Uint8Array(SECURITY_INFO_LEN); // no security features enabled
    new DataView(info.buffer).setUint32(12, this.chip.imageChipId, true);
    return this.reply(req.op, 0, info);
  }

  // Flash access goes through the SPI pins: unattached, reads see the bus idle high and writes go nowhere.
  private readFlash(offset: number, length: number): Uint8Array {
    return this.spiAttached ? this.flash.read(offset, length) : new Uint8Array(length).fill(0xff);
  }

  private eraseFlash(offset: number, length: number): void {
    if (this.spiAttached) this.flash.erase(offset, length);
  }

  /** NOR programming only clears bits: program = old AND new, so 0xFF padding leaves neighbours intact. */
  private program(offset: number, data: Uint8Array): void {
    this.checkRange(offset, data.length);
    if (!this.spiAttached) return;
    const cur = this.flash.read(offset, data.length);
    for (let i = 0; i < cur.length; i++) cur[i] &= data[i];
    this.flash.write(offset, cur);
  }

  /** Erase whole sectors covering [offset, offset+size). */
  private eraseCovering(offset: number, size: number): void {
    const start = offset - (offset % FLASH_SECTOR);
    const end = Math.min(this.flash.size, Math.ceil((offset + size) / FLASH_SECTOR) * FLASH_SECTOR);
    this.checkRange(offset, size);
    if (end > start) this.eraseFlash(start, end - start);
  }

  private flashBegin(req: Request): Promise<void> {
    const [size, , blockSize, offset] = this.params(req, 4);
    this.eraseCovering(offset, size);
    this.endWrite();
    this.write = { kind: 'plain', offset, end: offset + size, blockSize };
    return this.reply(req.op);
  }

  /** Common checks of FLASH_DATA/FLASH_DEFL_DATA/MEM_DATA: header, length and checksum. */
  private dataBlock(req: Request): { seq: number; data: Uint8Array } {
    const [len, seq] = this.params(req, 4);
    const data = req.data.subarray(16);
    if (data.length !== len) throw this.err(ErrorCode.INVALID_MESSAGE, ErrorCode.BAD_DATA_LEN);
    if (dataChecksum(data) !== (req.checksum & 0xff)) throw this.err(ErrorCode.INVALID_CRC, ErrorCode.BAD_DATA_CHECKSUM);
    return { seq, data };
  }

  private flashData(req: Request): Promise<void> {
    const w = this.write;
    if (w?.kind !== 'plain') throw this.err(ErrorCode.FAILED_TO_ACT, ErrorCode.NOT_IN_FLASH_MODE);
    const { seq, data } = this.dataBlock(req);
    const at = w.offset + seq * w.blockSize;
    // The ROM programs whole blocks; bytes past the end of the chip are dropped like the address wrap would.
    this.program(at, data.subarray(0, Math.max(0, Math.min(data.length, this.flash.size - at))));
    return this.reply(req.op);
  }

  private deflBegin(req: Request): Promise<void> {
    const [size, , , offset] = this.params(req, 4);
    this.eraseCovering(offset, size);
    const inflate = createInflate();
    const w: DeflateWrite = { kind: 'deflate', cursor: offset, end: offset + size, inflate };
    inflate.on('data', (chunk: Buffer) => {
      if (w.error) return;
      if (w.cursor + chunk.length > w.end) {
        w.error = new CommandError(this.stub ? ErrorCode.TOO_MUCH_DATA : ErrorCode.DEFLATE_ERROR);
        return;
      }
      this.program(w.cursor, chunk);
      w.cursor += chunk.length;
    });
    inflate.on('error', (e) => (w.error ??= e));
    this.endWrite();
    this.write = w;
    return this.reply(req.op);
  }

  private endWrite(): void {
    if (this.write?.kind === 'deflate') this.write.inflate.destroy();
    this.write = undefined;
  }

  private async deflData(req: Request): Promise<void> {
    const w = this.write;
    if (w?.kind !== 'deflate') throw this.err(ErrorCode.FAILED_TO_ACT, ErrorCode.NOT_IN_FLASH_MODE);
    const { data } = this.dataBlock(req);
    // Answer only once the block is inflated into flash, as the chip does: a following MD5 sees it.
    // A corrupt stream errors instead of calling back, so the error event ends the wait too.
    if (!w.error) {
      await new Promise<void>((resolve) => {
        const done = () => {
          w.inflate.off('error', done);
          resolve();
        };
        w.inflate.once('error', done);
        w.inflate.write(data, (err) => (err ? done() : w.inflate.flush(done)));
      });
    }
    if (w.error) {
      const code = w.error instanceof CommandError ? w.error.code : this.stub ? ErrorCode.INFLATE_ERROR : ErrorCode.DEFLATE_ERROR;
      throw new CommandError(code);
    }
    return this.reply(req.op);
  }

  /** FLASH_END/FLASH_DEFL_END: 0 reboots, 1 runs the app in the ROM and stays in the stub. */
  private async flashEnd(req: Request): Promise<void> {
    const [runUserCode] = this.params(req, 1);
    // The stub's flash_end checks it is in flash mode (esptool's soft reset sends FLASH_BEGIN(0) first).
    if (this.stub && !this.write) throw new CommandError(ErrorCode.NOT_IN_FLASH_MODE);
    this.endWrite();
    await this.reply(req.op);
    if (runUserCode === 0) return this.reboot();
    if (!this.stub) return this.leave('run-app');
  }

  private leave(why: ExitReason): void {
    this.exited = true;
    for (const l of this.exitListeners) l(why);
  }

  /** Software reset into download mode: the ROM again, flash detached, registers at their reset values. */
  private reboot(): void {
    this.stub = false;
    this.spiAttached = false;
    this.spi.reset();
    this.regs.clear();
    this.endWrite();
    this.inRamDownload = false;
    this.decoder.reset();
    for (const l of this.exitListeners) l('reboot');
  }

  private md5(req: Request): Promise<void> {
    const [offset, size] = this.params(req, 2);
    this.checkRange(offset, size);
    const digest = createHash('md5').update(this.readFlash(offset, size)).digest();
    // The ROM answers in hex text, the stub in raw bytes.
    return this.reply(req.op, 0, this.stub ? digest : Buffer.from(digest.toString('hex'), 'latin1'));
  }

  private readSlow(req: Request): Promise<void> {
    if (this.stub) throw new CommandError(ErrorCode.CMD_NOT_IMPLEMENTED);
    const [offset, len] = this.params(req, 2);
    if (len > READ_SLOW_BLOCK) throw new CommandError(ErrorCode.FLASH_READ_LENGTH_ERROR);
    this.checkRange(offset, len);
    const block = new Uint8Array(READ_SLOW_BLOCK);
    block.set(this.readFlash(offset, len));
    return this.reply(req.op, 0, block);
  }

  private async changeBaud(req: Request): Promise<void> {
    const [value] = this.params(req, 2);
    // A zero rate would divide by zero in the divider computation: refused, the line stays as it is.
    if (value === 0) throw this.err(ErrorCode.INVALID_MESSAGE, ErrorCode.INVALID_COMMAND);
    // The answer goes out at the old rate; only then does the UART switch.
    await this.reply(req.op);
    this.baud = this.stub ? value : this.romLineRate(value);
    for (const l of this.baudListeners) l(this.baud);
  }

  /** The ESP32 ROM sets its divider from its own crystal estimate; the newer ROMs know their crystal. */
  private romLineRate(value: number): number {
    if (this.chip.key !== 'esp32') return value;
    return Math.round(esp32RomLineRate(value, esp32RomCrystalHz(this.readReg(ESP32_RTCCALICFG1), this.readReg(this.chip.revisionEfuse + 16))));
  }

  private memBegin(req: Request): Promise<void> {
    this.params(req, 4);
    this.inRamDownload = true;
    return this.reply(req.op);
  }

  private memData(req: Request): Promise<void> {
    if (!this.inRamDownload) throw this.err(ErrorCode.FAILED_TO_ACT, ErrorCode.NOT_IN_FLASH_MODE);
    this.dataBlock(req);
    return this.reply(req.op);
  }

  /** MEM_END with an entry point jumps to the uploaded code: a stub, which greets with OHAI (also over a stub). */
  private async memEnd(req: Request): Promise<void> {
    const [noEntry, entry] = this.params(req, 2);
    this.inRamDownload = false;
    await this.reply(req.op);
    if (noEntry !== 0 || entry === 0) return;
    this.stub = true;
    this.endWrite();
    this.attachSpi(); // the stub attaches the flash itself before its command loop
    await this.emit(Buffer.from('OHAI', 'latin1'));
  }

  private eraseRegion(req: Request): Promise<void> {
    const [offset, size] = this.params(req, 2);
    if (offset % FLASH_SECTOR !== 0 || size % FLASH_SECTOR !== 0) throw new CommandError(ErrorCode.BAD_DATA_LEN);
    this.checkRange(offset, size);
    this.eraseFlash(offset, size);
    return this.reply(req.op);
  }

  private acknowledge(total: number): void {
    const r = this.read;
    if (!r) return;
    r.acked = Math.max(r.acked, total);
    r.wake?.();
  }

  /**
   * READ_FLASH: stream `packetSize` frames, keeping at most `inFlight` unacknowledged ones on the wire, then the
   * MD5 once everything is acknowledged. Each frame waits until the link has taken the previous one. Until the
   * read ends the stub listens only for acknowledgements, as Espressif's does.
   */
  private async streamRead(req: Request): Promise<void> {
    const [offset, length, packetSize, inFlight] = this.params(req, 4);
    this.checkRange(offset, length);
    if (packetSize === 0 || inFlight === 0) throw new CommandError(ErrorCode.BAD_BLOCKSIZE);
    await this.reply(req.op);
    const r: StubRead = { acked: 0 };
    this.read = r;
    const acked = (atLeast: number) => new Promise<void>((resolve) => {
      if (r.acked >= atLeast) return resolve();
      r.wake = () => {
        if (r.acked < atLeast) return;
        r.wake = undefined;
        resolve();
      };
    });
    const md5 = createHash('md5');
    for (let sent = 0; sent < length;) {
      await acked(sent + packetSize - inFlight * packetSize);
      const chunk = this.readFlash(offset + sent, Math.min(packetSize, length - sent));
      md5.update(chunk);
      sent += chunk.length;
      await this.emit(chunk);
    }
    await acked(length);
    this.read = undefined;
    await this.emit(md5.digest());
  }
}
