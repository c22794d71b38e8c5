// machine.mem8/16/32 on the virtual board: the few chip registers it models, 32-bit words at aligned addresses.
// GPIO registers act on the same PinBank machine.Pin drives; eFuse words are the ones the ROM emulator answers.

import { chipByName } from '../../protocol/esp/chips.js';
import type { BoardProfile } from '../profiles.js';
import { chipWords } from '../rom/chip-registers.js';
import type { PinBank } from './pins.js';

type Bank = 'out' | 'oe';
/** What a register does: read a bank's latch or the pins' levels; write a bank plain, or set/clear/xor its bits. */
type Reg = { bank: Bank | 'in'; word: number; op: 'read' | 'write' | 'set' | 'clr' | 'xor' };

// ESP-IDF components/soc/<chip>/include/soc/gpio_reg.h (TRM "GPIO Matrix and IO MUX" register summary): GPIO_OUT_REG
// +0x04, _W1TS +0x08, _W1TC +0x0c, OUT1 (GPIO 32+) +0x10/0x14/0x18, ENABLE +0x20/0x24/0x28, ENABLE1 +0x2c/0x30/0x34,
// IN +0x3c, IN1 +0x40; DR_REG_GPIO_BASE (reg_base.h) is 0x3ff44000 on the ESP32, 0x60004000 on the S3 and C3. The C3's
// 22 GPIOs have no second word.
function espGpio(base: number, words: number): Map<number, Reg> {
  const regs = new Map<number, Reg>();
  for (let w = 0; w < words; w++) {
    const [out, oe] = [base + 0x04 + 0x0c * w, base + 0x20 + 0x0c * w];
    regs.set(out, { bank: 'out', word: w, op: 'write' }).set(out + 4, { bank: 'out', word: w, op: 'set' })
      .set(out + 8, { bank: 'out', word: w, op: 'clr' }).set(oe, { bank: 'oe', word: w, op: 'write' })
      .set(oe + 4, { bank: 'oe', word: w, op: 'set' }).set(oe + 8, { bank: 'oe', word: w, op: 'clr' })
      .set(base + 0x3c + 4 * w, { bank: 'in', word: w, op: 'read' });
  }
  return regs;
}

// RP2040 datasheet 2.3.1.7 (SIO_BASE 0xd0000000): CPUID +0x000, GPIO_IN +0x004, GPIO_OUT +0x010, _SET/_CLR/_XOR
// +0x014/0x018/0x01c, GPIO_OE +0x020, _SET/_CLR/_XOR +0x024/0x028/0x02c.
const SIO = 0xd0000000;
function rp2Gpio(): Map<number, Reg> {
  const regs = new Map<number, Reg>([[SIO + 0x004, { bank: 'in', word: 0, op: 'read' }]]);
  for (const [bank, at] of [['out', SIO + 0x010], ['oe', SIO + 0x020]] as const) {
    (['write', 'set', 'clr', 'xor'] as const).forEach((op, i) => regs.set(at + 4 * i, { bank, word: 0, op }));
  }
  return regs;
}

export class RegisterModel {
  private readonly gpio: Map<number, Reg>;
  /** Read-only words: eFuse, chip facts, the rp2's CPUID (core 0: the VM runs on one core). */
  private readonly fixed: ReadonlyMap<number, number>;

  constructor(private readonly pins: PinBank, private readonly gpios: readonly number[], profile: BoardProfile, mac: Uint8Array) {
    if (profile.platform === 'rp2') {
      this.gpio = rp2Gpio();
      this.fixed = new Map([[SIO, 0]]);
    } else {
      const chip = chipByName(profile.espChip!)!;
      this.gpio = chip.key === 'esp32' ? espGpio(0x3ff44000, 2) : espGpio(0x60004000, chip.key === 'esp32s3' ? 2 : 1);
      this.fixed = chipWords(chip, mac);
    }
  }

  /** The word at an aligned address, or null where nothing is modelled. */
  read(addr: number): number | null {
    const reg = this.gpio.get(addr);
    if (!reg) return this.fixed.get(addr) ?? null;
    return reg.op === 'set' || reg.op === 'clr' || reg.op === 'xor' ? 0 : this.bank(reg.bank, reg.word);
  }

  /** Writes the bits of `mask` (a narrower access's lanes); false where nothing is modelled. */
  write(addr: number, value: number, mask: number): boolean {
    const reg = this.gpio.get(addr);
    if (!reg) return this.fixed.has(addr);
    if (reg.bank === 'in') return true;
    const old = this.bank(reg.bank, reg.word);
    const next = reg.op === 'set' ? old | value : reg.op === 'clr' ? old & ~value : reg.op === 'xor' ? old ^ value
      : (old & ~mask) | (value & mask);
    for (const pin of this.gpios) {
      if (pin >> 5 !== reg.word) continue;
      const bit: 0 | 1 = (next >>> (pin & 31)) & 1 ? 1 : 0;
      if (bit === ((old >>> (pin & 31)) & 1)) continue;
      if (reg.bank === 'out') this.pins.write(pin, bit);
      else this.pins.configure(pin, bit ? 'out' : 'in', null, null);
    }
    return true;
  }

  private bank(bank: Bank | 'in', word: number): number {
    let v = 0;
    for (const pin of this.gpios) {
      if (pin >> 5 !== word) continue;
      const s = this.pins.state(pin);
      const on = bank === 'in' ? this.pins.read(pin) : bank === 'out' ? s.out : s.mode === 'out' || s.mode === 'od';
      if (on) v |= 1 << (pin & 31);
    }
    return v >>> 0;
  }
}
