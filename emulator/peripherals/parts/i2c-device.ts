// The contract between the simulated I2C bus and a device on it. A transaction is START, address, then the
// master either writes bytes or reads `n` bytes; a repeated START begins the next transaction without STOP.

export interface I2cDevice {
  readonly address: number;
  /** Bytes the master wrote in one transaction (register pointer first, by convention of most parts). */
  write(bytes: number[]): void;
  read(n: number): number[];
}
