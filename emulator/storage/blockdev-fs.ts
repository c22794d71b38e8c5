// The `_bdfs` module behind vfs.VfsLfs2 / vfs.VfsFat on user block devices (a RAM disk class, a Partition): the
// filesystem runs here on our littlefs (and FAT, emulator/storage/fat.ts), its blocks come from the Python object
// through the callbacks Python hands over (the block protocol of os.AbstractBlockDev: readblocks, writeblocks,
// ioctl). Every function returns a negative errno instead of throwing, as vm-fs.ts does.
import { BlockDevice } from '../littlefs/block-device.js';
import { LFS_ERRNO, LfsError, type LfsErrorCode } from '../littlefs/errors.js';
import { parseMode, type OpenFlags, type Whence } from '../littlefs/file.js';
import { LittleFs } from '../littlefs/lfs.js';
import type { FlashStore } from '../flash-store.js';
import type { ControllablePlugin } from '../vm/host-api.js';
import { FatFs, type FatFile } from './fat.js';

/**
 * Python callables: read(block, offset, n) -> hex, write(block, offset, hex), erase(block), sync() (the device's
 * ioctl 3, or the old protocol's sync()); errno < 0 on failure.
 */
export interface PyBlockIo {
  read(block: number, offset: number, n: number): string | number;
  write(block: number, offset: number, hex: string): number;
  erase(block: number): number;
  sync(): number;
}

/** What VfsLfs2 and VfsFat both offer the Python side (littlefs's own API; FatFs implements the same). */
export interface MountedFs {
  open(path: string, flags: OpenFlags): FatFile;
  readdir(path: string): { name: string; type: 'file' | 'dir'; size: number }[];
  stat(path: string): { type: 'file' | 'dir'; size: number; mtime?: number };
  mkdir(path: string): void;
  remove(path: string): void;
  /** Where removing a directory differs from removing a file (VfsFat); VfsLfs2 removes either with remove(). */
  rmdir?(path: string): void;
  rename(from: string, to: string): void;
  statvfs(): { blockSize: number; blockCount: number; blocksFree: number; nameMax: number };
  unmount(): void;
}

/** A block device as a FlashStore: whole aligned blocks are erased then programmed, smaller writes only program. */
export class PyBlockStore implements FlashStore {
  readonly size: number;
  private readonly io: PyBlockIo;

  /** `errnos`: a device's own negative errno reaches the caller (littlefs), else every failure is EIO (FatFs). */
  constructor(
    io: PyBlockIo,
    readonly blockSize: number,
    readonly blockCount: number,
    private readonly errnos = false,
  ) {
    this.size = blockSize * blockCount;
    // Each attribute lookup on a Python object hands JavaScript a new proxy, which pins the bound method in the
    // VM's heap until the JavaScript GC finalises it: looked up once here, not at every block.
    this.io = { read: io.read, write: io.write, erase: io.erase, sync: io.sync };
  }

  private check(r: number | string): void {
    if (typeof r !== 'number' || r >= 0) return;
    const code = this.errnos ? (Object.keys(LFS_ERRNO) as LfsErrorCode[]).find((k) => LFS_ERRNO[k] === -r) : undefined;
    throw new LfsError(code ?? 'EIO', `block device error ${-r}`);
  }

  read(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let done = 0; done < length;) {
      const block = Math.floor((offset + done) / this.blockSize);
      const off = (offset + done) % this.blockSize;
      const n = Math.min(length - done, this.blockSize - off);
      const r = this.io.read(block, off, n);
      this.check(r);
      out.set(Buffer.from(r as string, 'hex'), done);
      done += n;
    }
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    for (let done = 0; done < data.length;) {
      const block = Math.floor((offset + done) / this.blockSize);
      const off = (offset + done) % this.blockSize;
      const n = Math.min(data.length - done, this.blockSize - off);
      if (off === 0 && n === this.blockSize) this.check(this.io.erase(block));
      this.check(this.io.write(block, off, Buffer.from(data.subarray(done, done + n)).toString('hex')));
      done += n;
    }
  }

  erase(offset: number, length: number): void {
    for (let b = offset / this.blockSize; b < (offset + length) / this.blockSize; b++) this.check(this.io.erase(b));
  }

  sync(): void {
    this.check(this.io.sync());
  }

  close(): void {}
}

const S_IFDIR = 0x4000;
const S_IFREG = 0x8000;

/** clock: the board's calendar clock (Unix ms), which file times come from; opened: called as a file opens. */
export function createBlockDevFsPlugin(clock: () => number = Date.now, opened?: () => void): ControllablePlugin {
  const mounts = new Map<number, MountedFs>();
  const files = new Map<number, { fs: number; file: FatFile }>();
  let next = 1;
  const errno = (err: unknown) => -(err instanceof LfsError ? err.errno : LFS_ERRNO.EIO);
  const guard = <R>(fn: () => R): R | number => {
    try {
      return fn();
    } catch (err) {
      return errno(err);
    }
  };
  const fsOf = (h: number) => {
    const fs = mounts.get(h);
    if (!fs) throw new LfsError('ENODEV');
    return fs;
  };
  const fileOf = (fd: number) => {
    const f = files.get(fd);
    if (!f) throw new LfsError('EBADF');
    return f.file;
  };
  const store = (io: PyBlockIo, bs: number, bc: number) => new PyBlockStore(io, bs, bc);
  const lfsDevice = (io: PyBlockIo, bs: number, bc: number) => new BlockDevice(new PyBlockStore(io, bs, bc, true), 0, bs * bc, bs);

  const api = {
    mkfs_lfs: (io: PyBlockIo, bs: number, bc: number, progSize: number) =>
      guard(() => (LittleFs.format(lfsDevice(io, bs, bc), { progSize, clock }).unmount(), 0)),
    mount_lfs: (io: PyBlockIo, bs: number, bc: number, progSize: number, mtime: boolean) =>
      guard(() => {
        const h = next++;
        mounts.set(h, LittleFs.mount(lfsDevice(io, bs, bc), { progSize, mtime, clock }));
        return h;
      }),
    mkfs_fat: (io: PyBlockIo, bs: number, bc: number, fat32: boolean) =>
      guard(() => (FatFs.format(store(io, bs, bc), clock, fat32), 0)),
    mount_fat: (io: PyBlockIo, bs: number, bc: number) =>
      guard(() => {
        const h = next++;
        mounts.set(h, FatFs.mount(store(io, bs, bc), clock, bs));
        return h;
      }),
    umount: (h: number) =>
      guard(() => {
        for (const [fd, f] of files) {
          if (f.fs !== h) continue;
          files.delete(fd);
          f.file.close();
        }
        fsOf(h).unmount();
        mounts.delete(h);
        return 0;
      }),
    /** "name/type/size/..." as vm-fs.ts lists ('/' cannot occur in a name). */
    ilistdir: (h: number, path: string) =>
      guard(() => fsOf(h).readdir(path).map((e) => `${e.name}/${e.type === 'dir' ? S_IFDIR : S_IFREG}/${e.size}`).join('/')),
    stat: (h: number, path: string) =>
      guard(() => {
        const st = fsOf(h).stat(path);
        return `${st.type === 'dir' ? S_IFDIR : S_IFREG} ${st.size} ${st.mtime ?? 0}`;
      }),
    statvfs: (h: number) =>
      guard(() => {
        const v = fsOf(h).statvfs();
        return `${v.blockSize} ${v.blockCount} ${v.blocksFree} ${v.nameMax}`;
      }),
    mkdir: (h: number, path: string) => guard(() => (fsOf(h).mkdir(path), 0)),
    remove: (h: number, path: string) => guard(() => (fsOf(h).remove(path), 0)),
    rmdir: (h: number, path: string) =>
      guard(() => {
        const fs = fsOf(h);
        (fs.rmdir ?? fs.remove).call(fs, path);
        return 0;
      }),
    rename: (h: number, a: string, b: string) => guard(() => (fsOf(h).rename(a, b), 0)),
    open: (h: number, path: string, mode: string) =>
      guard(() => {
        const fd = next++;
        files.set(fd, { fs: h, file: fsOf(h).open(path, parseMode(mode)) });
        opened?.();
        return fd;
      }),
    read: (fd: number, n: number) => guard(() => Buffer.from(fileOf(fd).read(n < 0 ? Infinity : n)).toString('hex')),
    write: (fd: number, hex: string) => guard(() => fileOf(fd).write(Buffer.from(hex, 'hex'))),
    seek: (fd: number, off: number, whence: number) => guard(() => fileOf(fd).seek(off, whence as Whence)),
    flush: (fd: number) => guard(() => (fileOf(fd).sync(), 0)),
    close: (fd: number) =>
      guard(() => {
        const f = fileOf(fd);
        files.delete(fd);
        f.close();
        return 0;
      }),
  };
  // A new VM (boot, soft reset) holds none of the old one's devices: their handles go with it.
  const onBoot = () => {
    mounts.clear();
    files.clear();
  };
  // At a soft reset the firmware's finalisers close every file still open: commit them through their devices.
  const onSweep = () => {
    for (const { file } of files.values()) {
      try {
        file.close();
      } catch {
        // a device that fails now loses that file, as the finaliser's close would
      }
    }
    files.clear();
  };
  return { name: 'blockdev-fs', jsModules: { _bdfs: Object.freeze(api) }, onBoot, onSweep, openFiles: () => files.size };
}
