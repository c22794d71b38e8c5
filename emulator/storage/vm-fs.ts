// Makes littlefs on the board's flash the VM's root filesystem, as MicroPython's VfsLfs2 is on a real board.
// Python calls the `_bfs` functions synchronously. JS exceptions would escape the VM, so every function returns
// a negative MicroPython errno on failure and the Python side raises OSError(errno).
//
// Bytes cross the boundary through an emscripten character device: a Python write to it lands directly in the
// target file (the device sees the VM's heap), and reads copy staged bytes into a bytearray — a memcpy either
// way (proxy conversion of bytes costs microseconds per byte). Nothing is buffered on the Python side, so a VM
// that ends without closing its files (a soft reset, a board closed while idle) loses nothing: the sweep before it
// ends closes and commits them, as MicroPython's finalisers would (the next mount, where no sweep ran).
import type { FlashStore } from '../flash-store.js';
import { BlockDevice } from '../littlefs/block-device.js';
import { LFS_ERRNO, LfsError } from '../littlefs/errors.js';
import { parseMode, type LfsFile, type Whence } from '../littlefs/file.js';
import { LittleFs } from '../littlefs/lfs.js';
import type { VmPlugin } from '../vm/host-api.js';

/** MicroPython's esp32 default boot.py, written on first boot. */
export const DEFAULT_BOOT_PY =
  '# This file is executed on every boot (including wake-boot from deepsleep)\n#import esp\n#esp.osdebug(None)\n#import webrepl\n#webrepl.start()\n';

const S_IFDIR = 0x4000;
const S_IFREG = 0x8000;

export interface VmFsOptions {
  flash: FlashStore;
  offset: number;
  size: number;
  blockSize?: number;
  /**
   * Whose boot sequence to follow. esp32 (default): VfsLfs2 with progsize 32; a blank region is formatted and
   * gets boot.py, an unmountable one stops in inisetup's fs_corrupted() loop. rp2: progsize 256, and _boot.py
   * formats the region whenever mounting fails, without writing boot.py.
   */
  port?: 'esp32' | 'rp2';
  /** The board's calendar clock (Unix ms) that stamps files' mtime; the host's by default. */
  clock?: () => number;
  /** Called as a file opens (the owner then knows a sweep may have something to close). */
  opened?: () => void;
}

/** Emscripten FS surface used to register the transfer device (present on the pyscript build's Module). */
interface EmFs {
  makedev(major: number, minor: number): number;
  registerDevice(dev: number, ops: object): void;
  mkdev(path: string, dev: number): void;
  isClosed(stream: object): boolean;
  close(stream: object): void;
}

let deviceSeq = 0;
/** Per VM (its emscripten FS): the transfer device's path, and the stream the last boot opened on it. */
const devices = new WeakMap<EmFs, { path: string; stream?: object }>();

/** The first two blocks read as erased flash: a board that never had a filesystem. */
function regionErased(flash: FlashStore, offset: number, blockSize: number): boolean {
  return flash.read(offset, 2 * blockSize).every((b) => b === 0xff);
}

export function createVmFsPlugin(opts: VmFsOptions): VmPlugin {
  const blockSize = opts.blockSize ?? 4096;
  const rp2 = opts.port === 'rp2';
  const lfsOptions = { progSize: rp2 ? 256 : 32, clock: opts.clock };
  let fs: LittleFs | undefined;
  const files = new Map<number, LfsFile>();
  let nextFd = 3;
  // The finalisers' sweep (soft reset, and a board let go of while it idles) or the next mount: every file still
  // open is closed, so what it wrote is committed.
  const closeAll = () => {
    for (const f of files.values()) {
      try { f.close(); } catch { /* closed what it can, like the finaliser sweep */ }
    }
    files.clear();
  };
  // The file device writes go to, the error that stopped the last one, and bytes staged for device reads.
  let writeFd = -1;
  let writeErr = 0;
  let outgoing: Uint8Array = new Uint8Array(0);

  const errno = (err: unknown): number => -(err instanceof LfsError ? err.errno : LFS_ERRNO.EIO);
  const guard = <R>(fn: (lfs: LittleFs) => R): R | number => {
    try {
      if (!fs) return -LFS_ERRNO.ENODEV;
      return fn(fs);
    } catch (err) {
      return errno(err);
    }
  };
  const withFile = <R>(fd: number, fn: (f: LfsFile) => R): R | number =>
    guard(() => {
      const f = files.get(fd);
      if (!f) throw new LfsError('EBADF');
      return fn(f);
    });

  const stageRead = (fd: number, n: number) =>
    withFile(fd, (f) => {
      outgoing = f.read(Math.max(0, n));
      return outgoing.length;
    });
  const writeBytes = (fd: number, data: Uint8Array) => withFile(fd, (f) => f.write(data));

  const bfs = {
    /** The transfer device's path, registered once per VM. */
    attach(): string | number {
      const emFs = (globalThis as { Module?: { FS?: EmFs } }).Module?.FS;
      if (!emFs) return -LFS_ERRNO.ENODEV;
      try {
        let device = devices.get(emFs);
        if (!device) {
          const entry: { path: string; stream?: object } = { path: `/dev/bfs${deviceSeq}` };
          const dev = emFs.makedev(240, deviceSeq++);
          emFs.registerDevice(dev, {
            open(stream: object) {
              entry.stream = stream;
            },
            close() {},
            write(_s: unknown, buf: Uint8Array, off: number, len: number) {
              // A short count tells Python to fetch the error: throwing here would carry emscripten's errno.
              const r = writeBytes(writeFd, buf.subarray(off, off + len));
              writeErr = r < 0 ? r : 0;
              return r < 0 ? 0 : r;
            },
            read(_s: unknown, buf: Uint8Array, off: number, len: number) {
              const n = Math.min(len, outgoing.length);
              buf.set(outgoing.subarray(0, n), off);
              outgoing = outgoing.subarray(n);
              return n;
            },
          });
          emFs.mkdev(entry.path, dev);
          devices.set(emFs, (device = entry));
        }
        // The last boot's file object went with its heap (a soft reset restores the VM's snapshot) without
        // closing its stream: closed here, or every soft reset would hold one more of the VM's 4096 descriptors.
        if (device.stream && !emFs.isClosed(device.stream)) emFs.close(device.stream);
        return device.path;
      } catch {
        return -LFS_ERRNO.ENODEV;
      }
    },

    /** Mount at boot: 0 = mounted, 1 = formatted (say so, as inisetup does), 2 = formatted silently, <0 = corrupt. */
    mount(): number {
      closeAll();
      fs = undefined;
      try {
        const bd = new BlockDevice(opts.flash, opts.offset, opts.size, blockSize);
        if (!rp2 && regionErased(opts.flash, opts.offset, blockSize)) {
          fs = LittleFs.format(bd, lfsOptions);
          fs.writeFile('/boot.py', new TextEncoder().encode(DEFAULT_BOOT_PY));
          return 1;
        }
        try {
          fs = LittleFs.mount(bd, lfsOptions);
          return 0;
        } catch (err) {
          if (!rp2) throw err;
          fs = LittleFs.format(bd, lfsOptions);
          return 2;
        }
      } catch (err) {
        return errno(err);
      }
    },

    /** What to tell the user when mount() failed: how to get an empty filesystem again. */
    repair_hint(): string {
      const range = `0x${opts.offset.toString(16)} 0x${opts.size.toString(16)}`;
      const how = rp2
        ? `its flash image does not hold the filesystem region (${range}); recreate the board (boardctl sim rm, sim create)`
        : `to reformat it (its files are lost), erase the filesystem region and reset: boardctl flash erase-region ${range}`;
      return `[boardctl] The board runs without a filesystem: ${how}`;
    },

    umount(): number {
      return guard((lfs) => {
        lfs.unmount();
        files.clear();
        fs = undefined;
        return 0;
      });
    },

    /** "mode size mtime" */
    stat: (path: string) =>
      guard((lfs) => {
        const st = lfs.stat(path);
        return `${st.type === 'dir' ? S_IFDIR : S_IFREG} ${st.size} ${st.mtime ?? 0}`;
      }),

    /** "name/type/size/name/type/size…" ('/' cannot occur in a name). */
    ilistdir: (path: string) =>
      guard((lfs) => lfs.readdir(path).map((e) => `${e.name}/${e.type === 'dir' ? S_IFDIR : S_IFREG}/${e.size}`).join('/')),

    /** The normalised path when it names a directory. */
    chdir: (path: string) =>
      guard((lfs) => {
        if (lfs.stat(path).type !== 'dir') throw new LfsError('ENOTDIR', path);
        const parts: string[] = [];
        for (const p of path.split('/')) {
          if (p === '..') parts.pop();
          else if (p && p !== '.') parts.push(p);
        }
        return '/' + parts.join('/');
      }),

    /** "bsize blocks bfree namemax" */
    statvfs: () =>
      guard((lfs) => {
        const v = lfs.statvfs();
        return `${v.blockSize} ${v.blockCount} ${v.blocksFree} ${v.nameMax}`;
      }),

    mkdir: (path: string) => guard((lfs) => (lfs.mkdir(path), 0)),
    remove: (path: string) => guard((lfs) => (lfs.remove(path), 0)),
    rename: (from: string, to: string) => guard((lfs) => (lfs.rename(from, to), 0)),

    open: (path: string, mode: string) =>
      guard((lfs) => {
        const fd = nextFd++;
        files.set(fd, lfs.open(path, parseMode(mode)));
        opts.opened?.();
        return fd;
      }),

    close: (fd: number) =>
      withFile(fd, (f) => {
        files.delete(fd);
        f.close();
        return 0;
      }),

    flush: (fd: number) => withFile(fd, (f) => (f.sync(), 0)),
    seek: (fd: number, off: number, whence: number) => withFile(fd, (f) => f.seek(off, whence as Whence)),

    /** Direct device writes to this file. */
    target: (fd: number) => withFile(fd, () => ((writeFd = fd), 0)),
    /** Why the last device write came up short (negative errno). */
    lasterr: () => writeErr || -LFS_ERRNO.EIO,
    /** Stage up to n bytes for the device; returns how many. */
    read: stageRead,
  };

  // The Python side is emulator/py/common/_boot.py, run with its own globals (the REPL's stay clean).
  return { jsModules: { _bfs: bfs }, bootScript: '_boot.py', onSweep: closeAll, openFiles: () => files.size };
}
