// The client battery on real MicroPython firmware: stock.elf, the upstream build: no filesystem.
import { qemuBattery } from './helpers/qemu-battery.js';

qemuBattery('stock', { fs: false, hashlib: true });
