// I2C buses keyed by their SCL/SDA pins: any controller (hardware I2C or SoftI2C) on the same pins reaches the
// same devices, as on a breadboard.

import type { I2cDevice } from './parts/i2c-device.js';
import type { Timeline } from './timeline.js';

export const ENODEV = 19;

export class I2cBuses {
  private readonly buses = new Map<string, Map<number, I2cDevice>>();

  constructor(private readonly timeline: Timeline) {}

  static key(scl: number, sda: number): string {
    return `${scl}/${sda}`;
  }

  attach(scl: number, sda: number, dev: I2cDevice): void {
    const key = I2cBuses.key(scl, sda);
    const bus = this.buses.get(key) ?? new Map<number, I2cDevice>();
    bus.set(dev.address, dev);
    this.buses.set(key, bus);
  }

  scan(scl: number, sda: number): number[] {
    return [...(this.buses.get(I2cBuses.key(scl, sda))?.keys() ?? [])].sort((a, b) => a - b);
  }

  /** One transaction: write `write` (if any) then read `readLen` bytes; null when nobody ACKs the address. */
  transfer(scl: number, sda: number, addr: number, write: number[], readLen: number): number[] | null {
    const bus = I2cBuses.key(scl, sda);
    const dev = this.buses.get(bus)?.get(addr);
    if (!dev) {
      this.timeline.record({ kind: 'i2c', bus, addr, write, read: [], ack: false });
      return null;
    }
    if (write.length > 0 || readLen === 0) dev.write(write);
    const read = readLen > 0 ? dev.read(readLen) : [];
    this.timeline.record({ kind: 'i2c', bus, addr, write, read, ack: true });
    return read;
  }
}
