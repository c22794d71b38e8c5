// 1-Wire buses keyed by their data pin, simulated one time slot at a time: the master's reset pulse, write slots
// and read slots (a read slot is a write-1 slot that a device may pull low). Devices share the line as wired-AND.

/** A device on a 1-Wire bus: it sees every reset and every slot, and says whether it pulls the line low. */
export interface OneWireDevice {
  /** Reset pulse; true when the device answers with a presence pulse. */
  reset(): boolean;
  /** One slot in which the master writes `bit` (1 for a read slot); returns the level this device leaves. */
  slot(bit: 0 | 1): 0 | 1;
}

export class OneWireBuses {
  private readonly buses = new Map<number, OneWireDevice[]>();

  attach(pin: number, dev: OneWireDevice): void {
    const bus = this.buses.get(pin) ?? [];
    bus.push(dev);
    this.buses.set(pin, bus);
  }

  /** 1 when some device answered with a presence pulse. */
  reset(pin: number): 0 | 1 {
    let present: 0 | 1 = 0;
    for (const d of this.buses.get(pin) ?? []) if (d.reset()) present = 1;
    return present;
  }

  /** One slot: the wired-AND of the master's bit and every device's answer. */
  slot(pin: number, bit: 0 | 1): 0 | 1 {
    let level = bit;
    for (const d of this.buses.get(pin) ?? []) if (d.slot(bit) === 0) level = 0;
    return level;
  }

  /** Eight slots, least significant bit first, as onewire's writebyte/readbyte run them. */
  byte(pin: number, value: number): number {
    let read = 0;
    for (let i = 0; i < 8; i++) read |= this.slot(pin, ((value >> i) & 1) as 0 | 1) << i;
    return read;
  }
}

/** Dallas/Maxim CRC-8 (polynomial x^8 + x^5 + x^4 + 1, reflected), as ROM codes and scratchpads carry it. */
export function crc8(bytes: Iterable<number>): number {
  let crc = 0;
  for (const b of bytes) {
    let x = b;
    for (let i = 0; i < 8; i++) {
      const mix = (crc ^ x) & 1;
      crc >>= 1;
      if (mix) crc ^= 0x8c;
      x >>= 1;
    }
  }
  return crc;
}
