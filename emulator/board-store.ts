// Virtual boards on disk: $BOARDCTL_HOME (or $XDG_DATA_HOME/boardctl)/boards/NAME/ holds flash.bin, the whole
// persistent state of the board, board.json, what kind of board it is, and on esp32 profiles sdcard.img, the SD
// card in its slot. A board's files are its owner's alone (directories 0700, files 0600, whatever the umask):
// boot.py holds Wi-Fi keys, and the control socket steers the board.
import { chmodSync, existsSync, lstatSync, readFileSync, readdirSync, renameSync, statSync, rmSync, writeFileSync,
  openSync, closeSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { dataHome } from '../protocol/data-home.js';
import { BoardError } from '../protocol/errors.js';
import { makeDirs } from '../protocol/fs/make-dirs.js';
import { hostError } from '../protocol/host-error.js';
import { parseBoardConfig, type BoardConfig } from './board-config.js';
import { getProfile, type ProfileName } from './profiles.js';
import { FileFlashStore } from './flash-store.js';
import { createSdCard } from './storage/sdcard.js';
import { firmwareOffset, generateFirmware } from './rom/firmware.js';

/** The flash's erase unit: a flash image is made of whole sectors. */
const FLASH_SECTOR = 4096;

export type { BoardConfig } from './board-config.js';

export interface StoredBoard {
  name: string;
  dir: string;
  flashPath: string;
  config: BoardConfig;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function boardsDir(home = dataHome()): string {
  return join(home, 'boards');
}

/** Where the virtual boards' VM keeps its boot images (emulator/vm/boot-image.ts): beside the boards, shared by them. */
export function bootImagesDir(board: Pick<StoredBoard, 'dir'>): string {
  return join(dirname(dirname(board.dir)), 'vm');
}

/** The SD card in an esp32 board's slot (machine.SDCard): no file, no card. */
export function sdCardPath(board: Pick<StoredBoard, 'dir'>): string {
  return join(board.dir, 'sdcard.img');
}

export function checkBoardName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new BoardError('USAGE', `invalid board name '${name}': use letters, digits, '.', '_' and '-'`);
  }
}

function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, path);
}

/**
 * Make a board's directory and everything in it private to its owner (group and other bits off), as boards made
 * before this rule, or files copied in under a loose umask, may not be. A board that cannot be made private (it
 * belongs to another user) is refused.
 */
function makePrivate(name: string, dir: string): void {
  const uid = process.getuid?.();
  for (const path of [dirname(dir), dir, ...readdirSync(dir).map((f) => join(dir, f))]) {
    const st = lstatSync(path);
    if (st.isSymbolicLink() || (st.mode & 0o077) === 0) continue;
    try {
      chmodSync(path, st.mode & 0o7700);
    } catch (err) {
      throw new BoardError(
        'PERMISSION_DENIED',
        `virtual board '${name}': ${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}) and cannot be made private` +
          ` (${(err as NodeJS.ErrnoException).code}${uid !== undefined && st.uid !== uid ? `; it belongs to uid ${st.uid}` : ''}): chmod go-rwx it, or use a board of your own`,
      );
    }
  }
}

export interface CreateOptions {
  profile?: ProfileName;
  flashSize?: number;
  home?: string;
}

export function createBoard(name: string, opts: CreateOptions = {}): StoredBoard {
  checkBoardName(name);
  const profile = getProfile(opts.profile ?? 'esp32');
  const dir = join(boardsDir(opts.home), name);
  if (existsSync(join(dir, 'board.json'))) throw new BoardError('USAGE', `virtual board '${name}' already exists`);
  const flashSize = opts.flashSize ?? profile.defaultFlashSize;
  const fs = profile.fsRegion(flashSize);
  if (fs.offset + fs.size > flashSize || fs.size < 64 * 1024) {
    throw new BoardError('USAGE', `flash size ${flashSize} is too small for the ${profile.name} layout`);
  }
  try {
    makeDirs(dir);
  } catch (err) {
    throw hostError(`cannot create virtual board '${name}'`, err);
  }
  makePrivate(name, dir);
  const mac = randomBytes(6);
  mac[0] = 0x24; // an Espressif OUI, locally unique tail
  mac[1] = 0x0a;
  mac[2] = 0xc4;
  const config: BoardConfig = {
    profile: profile.name,
    flashSize,
    mac: [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':'),
    // An ESP32's unique_id() is its base MAC; an RP2040's is the 8-byte id of its flash chip.
    uniqueId: profile.espChip ? Buffer.from(mac).toString('hex') : randomBytes(8).toString('hex'),
  };
  const flashPath = join(dir, 'flash.bin');
  const tmpFlash = `${flashPath}.new`;
  try {
    rmSync(tmpFlash, { force: true });
    const flash = FileFlashStore.create(tmpFlash, flashSize);
    try {
      // New ESP boards come flashed with MicroPython, as bought.
      if (profile.espChip) flash.write(firmwareOffset(profile), generateFirmware(profile, { flashSize }));
      flash.sync();
    } finally {
      flash.close();
    }
    renameSync(tmpFlash, flashPath);
    // New ESP boards have a card in the slot, formatted as cards are sold (rp2's port has no machine.SDCard).
    if (profile.espChip) {
      rmSync(sdCardPath({ dir }), { force: true });
      createSdCard(sdCardPath({ dir }));
    }
    writeJsonAtomic(join(dir, 'board.json'), config);
  } catch (err) {
    rmSync(tmpFlash, { force: true });
    throw hostError(`cannot create virtual board '${name}'`, err);
  }
  return { name, dir, flashPath, config };
}

export function loadBoard(name: string, home?: string): StoredBoard {
  checkBoardName(name);
  const dir = join(boardsDir(home), name);
  const jsonPath = join(dir, 'board.json');
  if (!existsSync(jsonPath)) {
    throw new BoardError('NO_SUCH_PORT', `no virtual board named '${name}' (create it with: boardctl sim create ${name})`);
  }
  makePrivate(name, dir);
  let text: string;
  try {
    text = readFileSync(jsonPath, 'utf8');
  } catch (err) {
    throw hostError(`cannot read virtual board '${name}' (${jsonPath})`, err);
  }
  const config = parseBoardConfig(text, `virtual board '${name}': ${jsonPath}`);
  const flashPath = join(dir, 'flash.bin');
  // A flash image of another size than the board's chip would fail deep inside the VM: said here instead. A
  // copy cut short at a sector boundary is a flash whose end reads as erased (the store pads it, the boot
  // formats the filesystem), as a partial dump written back would leave a chip.
  let size: number | undefined;
  try {
    size = statSync(flashPath).size;
  } catch {
    // missing: reported by whatever opens it
  }
  if (size !== undefined && (size > config.flashSize || size % FLASH_SECTOR !== 0)) {
    throw new BoardError('BAD_IMAGE', `virtual board '${name}': ${flashPath} is ${size} bytes but board.json says the chip has ${config.flashSize}`, { path: flashPath });
  }
  return { name, dir, flashPath, config };
}

/** The board, created on first use when it is the default one. */
export function openStoredBoard(name: string, home?: string): StoredBoard {
  try {
    return loadBoard(name, home);
  } catch (err) {
    if (name === 'default' && err instanceof BoardError && err.code === 'NO_SUCH_PORT') return createBoard(name, { home });
    throw err;
  }
}

/** Every board under the data home; one whose board.json is broken is listed apart, with its error. */
export function scanBoards(home?: string): { boards: StoredBoard[]; invalid: { name: string; error: BoardError }[] } {
  const dir = boardsDir(home);
  const result: ReturnType<typeof scanBoards> = { boards: [], invalid: [] };
  if (!existsSync(dir)) return result;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw hostError('cannot list the virtual boards', err);
  }
  for (const n of names.filter((n) => NAME_RE.test(n) && existsSync(join(dir, n, 'board.json'))).sort()) {
    try {
      result.boards.push(loadBoard(n, home));
    } catch (err) {
      if (!(err instanceof BoardError)) throw err;
      result.invalid.push({ name: n, error: err });
    }
  }
  return result;
}

/** The boards that load (see scanBoards for the ones that do not). */
export function listBoards(home?: string): StoredBoard[] {
  return scanBoards(home).boards;
}

/** Removes a board even when its board.json is broken (that is one way to get rid of the mistake). */
export function removeBoard(name: string, home?: string): void {
  let b: Pick<StoredBoard, 'dir'>;
  try {
    b = loadBoard(name, home);
  } catch (err) {
    if (!(err instanceof BoardError) || err.code !== 'BAD_CONFIG') throw err;
    b = { dir: join(boardsDir(home), name) };
  }
  const holder = lockHolder(b);
  if (holder !== undefined) throw new BoardError('BOARD_BUSY', `virtual board '${name}' is in use by process ${holder}`);
  rmSync(b.dir, { recursive: true, force: true });
}

// ---- one owner per board across processes ---------------------------------------------------------------

function lockPath(b: Pick<StoredBoard, 'dir'>): string {
  return join(b.dir, 'lock');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** PID of the live process that holds the board, if any. */
export function lockHolder(b: Pick<StoredBoard, 'dir'>): number | undefined {
  try {
    const pid = Number(readFileSync(lockPath(b), 'utf8').trim());
    return pid && pid !== process.pid && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Take the board for this process; a second process gets BOARD_BUSY. Returns the release function. */
export function lockBoard(b: StoredBoard): () => void {
  const path = lockPath(b);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = lockHolder(b);
      if (holder !== undefined) {
        throw new BoardError(
          'BOARD_BUSY',
          `board busy: virtual board '${b.name}' is in use by process ${holder} (if that is \`boardctl sim serve\`, use its pty or TCP port)`,
        );
      }
      rmSync(path, { force: true }); // stale lock of a dead process
    }
  }
  throw new BoardError('BOARD_BUSY', `board busy: could not lock virtual board '${b.name}'`);
}
