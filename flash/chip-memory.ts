// esptool's memory and security commands: read-mem, write-mem, dump-mem and get-security-info. The loader has no
// bulk memory read, so dump-mem is READ_REG a word at a time, as esptool does it. Data in, data out.
import { BoardError } from '../protocol/errors.js';
import { u32le } from '../protocol/esp/packet.js';
import type { SecurityInfo } from '../protocol/esp/loader.js';
import type { EspSession } from './esp-connect.js';

/** The loader reads and writes whole words: an unaligned address would fault the chip's load or store. */
function checkWord(address: number, what = 'address'): void {
  if (address % 4 !== 0 || address < 0 || address > 0xfffffffc) {
    throw new BoardError('USAGE', `${what} 0x${address.toString(16)} is not a word address (a multiple of 4 below 2^32)`);
  }
}

export async function readMem(session: EspSession, address: number): Promise<number> {
  checkWord(address);
  return session.loader.readReg(address);
}

/** WRITE_REG: only the bits set in `mask` change (the ROM reads the word, merges and writes it back). */
export async function writeMem(session: EspSession, address: number, value: number, mask = 0xffffffff): Promise<void> {
  checkWord(address);
  await session.loader.writeReg(address, value >>> 0, mask >>> 0);
}

/** `size` bytes from `address`, one READ_REG per word; size must be whole words (esptool drops a partial one). */
export async function dumpMem(session: EspSession, address: number, size: number, progress?: (done: number, total: number) => void): Promise<Uint8Array> {
  checkWord(address);
  if (size % 4 !== 0 || size <= 0) throw new BoardError('USAGE', `size ${size} is not a whole number of 4-byte words`);
  checkWord(address + size - 4, 'end address');
  const out = new Uint8Array(size);
  for (let done = 0; done < size; done += 4) {
    out.set(u32le(await session.loader.readReg(address + done)), done);
    if ((done + 4) % 1024 === 0 || done + 4 === size) progress?.(done + 4, size);
  }
  return out;
}

/** GET_SECURITY_INFO; the original ESP32's ROM has no such command (esptool: ESP32-S2 and later). */
export async function securityInfo(session: EspSession): Promise<SecurityInfo> {
  const info = await session.loader.securityInfo();
  if (!info) throw new BoardError('BOOTLOADER', `${session.chip.name} ROM does not support the GET_SECURITY_INFO command (ESP32-S2 and later chips have it)`);
  return info;
}

// The ROM's flag bits, the same on every chip that has the command.
const FLAG = {
  SECURE_BOOT_EN: 1 << 0, SECURE_BOOT_AGGRESSIVE_REVOKE: 1 << 1, SECURE_BOOT_KEY_REVOKE0: 1 << 3,
  SOFT_DIS_JTAG: 1 << 6, HARD_DIS_JTAG: 1 << 7, DIS_USB: 1 << 8, DIS_DOWNLOAD_DCACHE: 1 << 9, DIS_DOWNLOAD_ICACHE: 1 << 10,
} as const;

/** eFuse key purposes (ESP-IDF's esp_efuse_purpose_t) by value, as esptool names them. */
const KEY_PURPOSES = [
  'USER/EMPTY', 'RESERVED', 'XTS_AES_256_KEY_1', 'XTS_AES_256_KEY_2', 'XTS_AES_128_KEY', 'HMAC_DOWN_ALL',
  'HMAC_DOWN_JTAG', 'HMAC_DOWN_DIGITAL_SIGNATURE', 'HMAC_UP', 'SECURE_BOOT_DIGEST0', 'SECURE_BOOT_DIGEST1',
  'SECURE_BOOT_DIGEST2',
];
/** The C3 and S3 have key blocks 0-5; the seventh purpose byte belongs to none. */
const KEY_BLOCKS = 6;

/** esptool v5's report of get-security-info, line by line. */
export function securityReport(info: SecurityInfo): string[] {
  const has = (bit: number) => (info.flags & bit) !== 0;
  const title = 'Security Information:';
  const lines = [title, '='.repeat(title.length), `Flags: 0x${info.flags.toString(16).padStart(8, '0')} (0b${info.flags.toString(2)})`];
  lines.push(`Key Purposes: (${info.keyPurposes.join(', ')})`);
  lines.push('  ' + info.keyPurposes.slice(0, KEY_BLOCKS).map((p, n) => `BLOCK_KEY${n} - ${KEY_PURPOSES[p] ?? 'UNKNOWN'}`).join('\n  '));
  if (info.chipId !== undefined && info.ecoVersion !== undefined) lines.push(`Chip ID: ${info.chipId}`, `API Version: ${info.ecoVersion}`);
  if (has(FLAG.SECURE_BOOT_EN)) {
    lines.push('Secure Boot: Enabled');
    if (has(FLAG.SECURE_BOOT_AGGRESSIVE_REVOKE)) lines.push('Secure Boot Aggressive key revocation: Enabled');
    const revoked = [0, 1, 2].filter((i) => has(FLAG.SECURE_BOOT_KEY_REVOKE0 << i));
    if (revoked.length) lines.push('Secure Boot Key Revocation Status:', ...revoked.map((i) => `\tSecure Boot Key${i} is Revoked`));
  } else {
    lines.push('Secure Boot: Disabled');
  }
  const cryptOnes = info.flashCryptCnt.toString(2).replace(/0/g, '').length;
  lines.push(`Flash Encryption: ${cryptOnes % 2 ? 'Enabled' : 'Disabled'}`);
  lines.push(`SPI Boot Crypt Count (SPI_BOOT_CRYPT_CNT): 0x${info.flashCryptCnt.toString(16)}`);
  if (has(FLAG.DIS_DOWNLOAD_DCACHE)) lines.push('Dcache in UART download mode: Disabled');
  if (has(FLAG.DIS_DOWNLOAD_ICACHE)) lines.push('Icache in UART download mode: Disabled');
  if (has(FLAG.HARD_DIS_JTAG)) lines.push('JTAG: Permanently Disabled');
  else if (has(FLAG.SOFT_DIS_JTAG)) lines.push('JTAG: Software Access Disabled');
  if (has(FLAG.DIS_USB)) lines.push('USB Access: Disabled');
  return lines;
}
