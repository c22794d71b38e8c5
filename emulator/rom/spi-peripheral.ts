// The SPI0/1 user-command registers as the ROM's READ_REG/WRITE_REG reach them. esptool reads the flash
// id by loading a command into USR2, setting bit lengths, kicking SPI_CMD_USR and reading W0; this runs
// those commands against a modelled NOR chip (JEDEC id, SFDP table, status register).
import { SPI_CMD_USR, type SpiRegs } from '../../protocol/esp/chips.js';

const RDID = 0x9f;
const RDSFDP = 0x5a;
/** GigaDevice, the usual flash on Espressif modules. */
const MANUFACTURER = 0xc8;
const MEMORY_TYPE = 0x40;
/** SPI_ADDR register offset (same on ESP32 and the newer SPI_MEM blocks). */
const ADDR_OFFS = 0x04;
const W_REGS = 16;

export class SpiPeripheral {
  private readonly regs = new Map<number, number>();
  /** Pins routed to the flash (SPI_ATTACH); before that MISO floats high and every reply reads 0xFF. */
  attached = false;

  /** `addrInMsb`: the ESP32 takes SPI addresses left-aligned in the ADDR register. */
  constructor(private readonly spi: SpiRegs, private readonly flashSize: number, private readonly addrInMsb: boolean) {}

  reset(): void {
    this.regs.clear();
    this.attached = false;
  }

  owns(addr: number): boolean {
    return addr >= this.spi.base && addr < this.spi.base + 0x100;
  }

  read(addr: number): number {
    return this.regs.get(addr) ?? 0;
  }

  write(addr: number, value: number): void {
    if (addr === this.spi.base && (value & SPI_CMD_USR) !== 0) {
      this.execute();
      this.regs.set(addr, value & ~SPI_CMD_USR); // hardware clears the bit when the command completes
      return;
    }
    this.regs.set(addr, value >>> 0);
  }

  jedecId(): number {
    return (MANUFACTURER | (MEMORY_TYPE << 8) | (Math.log2(this.flashSize) << 16)) >>> 0;
  }

  private execute(): void {
    const command = this.read(this.spi.base + this.spi.usr2) & 0xff;
    const readBytes = Math.ceil(((this.read(this.spi.base + this.spi.misoDlen) & 0xffffff) + 1) / 8);
    let reply: Uint8Array;
    if (!this.attached) {
      reply = new Uint8Array(readBytes).fill(0xff);
    } else if (command === RDID) {
      const id = this.jedecId();
      reply = Uint8Array.from([id & 0xff, (id >>> 8) & 0xff, (id >>> 16) & 0xff]);
    } else if (command === RDSFDP) {
      const raw = this.read(this.spi.base + ADDR_OFFS);
      const addr = this.addrInMsb ? raw >>> 8 : raw & 0xffffff;
      reply = this.sfdp().subarray(addr, addr + readBytes);
    } else {
      reply = new Uint8Array(0); // status registers and others read as zero: idle, unprotected
    }
    const words = new Uint8Array(W_REGS * 4);
    words.set(reply.subarray(0, words.length));
    const view = new DataView(words.buffer);
    for (let i = 0; i < W_REGS; i++) this.regs.set(this.spi.base + this.spi.w0 + i * 4, view.getUint32(i * 4, true));
  }

  /** A minimal JESD216 table: header, one parameter header, and the basic table's density word. */
  private sfdp(): Uint8Array {
    const t = new Uint8Array(0x80).fill(0xff);
    t.set([0x53, 0x46, 0x44, 0x50, 0x06, 0x01, 0x00, 0xff]); // "SFDP", rev 1.6, one parameter header
    t.set([0x00, 0x06, 0x01, 0x10, 0x30, 0x00, 0x00, 0xff], 8); // basic table v1.6, 16 dwords at 0x30
    new DataView(t.buffer).setUint32(0x34, this.flashSize * 8 - 1, true);
    return t;
  }
}
