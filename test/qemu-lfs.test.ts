// The client battery on real MicroPython firmware: lfs.elf, littlefs at /, hashlib, binascii, decompress-only deflate (esp32/rp2/stm32 level).
import { qemuBattery } from './helpers/qemu-battery.js';

qemuBattery('lfs', { fs: true, hashlib: true });
