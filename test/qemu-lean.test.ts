// The client battery on real MicroPython firmware: lean.elf, littlefs without hashlib, binascii and deflate (a smaller board).
import { qemuBattery } from './helpers/qemu-battery.js';

qemuBattery('lean', { fs: true, hashlib: false });
