// Opcodes, error codes and the data checksum of the ESP serial bootloader protocol
// (Espressif "Serial Protocol" documentation; the stub loader adds the 0xD0.. commands).

export const Op = {
  FLASH_BEGIN: 0x02,
  FLASH_DATA: 0x03,
  FLASH_END: 0x04,
  MEM_BEGIN: 0x05,
  MEM_END: 0x06,
  MEM_DATA: 0x07,
  SYNC: 0x08,
  WRITE_REG: 0x09,
  READ_REG: 0x0a,
  SPI_SET_PARAMS: 0x0b,
  SPI_ATTACH: 0x0d,
  READ_FLASH_SLOW: 0x0e,
  CHANGE_BAUDRATE: 0x0f,
  FLASH_DEFL_BEGIN: 0x10,
  FLASH_DEFL_DATA: 0x11,
  FLASH_DEFL_END: 0x12,
  SPI_FLASH_MD5: 0x13,
  GET_SECURITY_INFO: 0x14,
  // Stub loader only.
  ERASE_FLASH: 0xd0,
  ERASE_REGION: 0xd1,
  READ_FLASH: 0xd2,
  RUN_USER_CODE: 0xd3,
} as const;

export type OpName = keyof typeof Op;

export function opName(op: number): string {
  for (const [name, code] of Object.entries(Op)) if (code === op) return name;
  return `0x${op.toString(16).padStart(2, '0')}`;
}

/** Error byte of a failed response. ROM codes are 0x05..0x0B, stub codes 0xC0.. and 0xFF. */
export const ErrorCode = {
  INVALID_MESSAGE: 0x05,
  FAILED_TO_ACT: 0x06,
  INVALID_CRC: 0x07,
  FLASH_WRITE_ERROR: 0x08,
  FLASH_READ_ERROR: 0x09,
  FLASH_READ_LENGTH_ERROR: 0x0a,
  DEFLATE_ERROR: 0x0b,
  BAD_DATA_LEN: 0xc0,
  BAD_DATA_CHECKSUM: 0xc1,
  BAD_BLOCKSIZE: 0xc2,
  INVALID_COMMAND: 0xc3,
  FAILED_SPI_OP: 0xc4,
  FAILED_SPI_UNLOCK: 0xc5,
  NOT_IN_FLASH_MODE: 0xc6,
  INFLATE_ERROR: 0xc7,
  NOT_ENOUGH_DATA: 0xc8,
  TOO_MUCH_DATA: 0xc9,
  CMD_NOT_IMPLEMENTED: 0xff,
} as const;

const ERROR_TEXT: Record<number, string> = {
  [ErrorCode.INVALID_MESSAGE]: 'Received message is invalid (parameters or length field is invalid)',
  [ErrorCode.FAILED_TO_ACT]: 'Failed to act on received message',
  [ErrorCode.INVALID_CRC]: 'Invalid CRC in message',
  [ErrorCode.FLASH_WRITE_ERROR]: 'Flash write error (data read back differs from data written)',
  [ErrorCode.FLASH_READ_ERROR]: 'Flash read error',
  [ErrorCode.FLASH_READ_LENGTH_ERROR]: 'Flash read length error',
  [ErrorCode.DEFLATE_ERROR]: 'Deflate error (compressed data is invalid)',
  [ErrorCode.BAD_DATA_LEN]: 'Bad data length',
  [ErrorCode.BAD_DATA_CHECKSUM]: 'Bad data checksum',
  [ErrorCode.BAD_BLOCKSIZE]: 'Bad block size',
  [ErrorCode.INVALID_COMMAND]: 'Invalid command',
  [ErrorCode.FAILED_SPI_OP]: 'SPI operation failed',
  [ErrorCode.FAILED_SPI_UNLOCK]: 'SPI unlock failed',
  [ErrorCode.NOT_IN_FLASH_MODE]: 'Not in flash mode',
  [ErrorCode.INFLATE_ERROR]: 'Inflate error (compressed data is invalid)',
  [ErrorCode.NOT_ENOUGH_DATA]: 'Not enough data',
  [ErrorCode.TOO_MUCH_DATA]: 'Too much data',
  [ErrorCode.CMD_NOT_IMPLEMENTED]: 'Command not implemented',
};

export function errorText(code: number): string {
  return ERROR_TEXT[code] ?? `Unknown error 0x${code.toString(16).padStart(2, '0')}`;
}

const CHECKSUM_SEED = 0xef;

/** The data checksum of FLASH_DATA/MEM_DATA/FLASH_DEFL_DATA: 0xEF XOR every payload byte. */
export function dataChecksum(data: Uint8Array): number {
  let c = CHECKSUM_SEED;
  for (const b of data) c ^= b;
  return c;
}

/** SYNC payload: 0x07 0x07 0x12 0x20 then 32 bytes of 0x55 (lets the ROM measure the baud rate). */
export const SYNC_PAYLOAD: Uint8Array = Uint8Array.from([0x07, 0x07, 0x12, 0x20, ...new Array<number>(32).fill(0x55)]);

/** ROM loaders end each response with 4 status bytes, the stub loader with 2. */
export const ROM_STATUS_LEN = 4;
export const STUB_STATUS_LEN = 2;

// Block sizes the loaders accept for data commands.
export const ROM_FLASH_BLOCK = 0x400;
export const STUB_FLASH_BLOCK = 0x4000;
export const RAM_BLOCK = 0x1800;
export const FLASH_SECTOR = 0x1000;
export const READ_SLOW_BLOCK = 64;
