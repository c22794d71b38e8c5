import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { FileFlashStore, MemoryFlashStore } from '../emulator/flash-store.js';
import { BlockDevice } from '../emulator/littlefs/block-device.js';
import { blockIndex, blockStart, ctz } from '../emulator/littlefs/ctz.js';
import { LfsError } from '../emulator/littlefs/errors.js';
import { checkImage, listImage } from '../emulator/littlefs/image-tools.js';
import { LittleFs } from '../emulator/littlefs/lfs.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}
function randomBytes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = r() & 0xff;
  return b;
}

function fresh(size = 1 << 20, blockSize = 4096) {
  const flash = new MemoryFlashStore(size);
  const fs = LittleFs.format(new BlockDevice(flash, 0, size, blockSize));
  const remount = () => LittleFs.mount(new BlockDevice(flash, 0, size, blockSize));
  return { flash, fs, remount };
}

function errCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof LfsError) return `${err.code}/${err.errno}`;
    throw err;
  }
  return 'no error';
}

/** Read one byte of a CTZ file the way littlefs seeks: taking the largest skip pointer that does not overshoot. */
function ctzFind(flash: MemoryFlashStore, bs: number, head: number, size: number, pos: number): number {
  let current = blockIndex(size - 1, bs);
  const target = blockIndex(pos, bs);
  let block = head;
  while (current > target) {
    const s = Math.min(31 - Math.clz32(current - target), ctz(current));
    const p = block * bs + 4 * s;
    block = flash.data[p] | (flash.data[p + 1] << 8) | (flash.data[p + 2] << 16) | (flash.data[p + 3] << 24);
    current -= 1 << s;
  }
  const ptrs = target === 0 ? 0 : 4 * (ctz(target) + 1);
  return flash.data[block * bs + ptrs + pos - blockStart(target, bs)];
}

describe('littlefs core', () => {
  test('format writes the littlefs superblock entry littlefs tools look for', () => {
    const { flash, fs } = fresh();
    // The magic sits at offset 8 of the active root block: rev(4) + name tag(4).
    const active = [0, 1].find((b) => dec.decode(flash.data.subarray(b * 4096 + 8, b * 4096 + 16)) === 'littlefs');
    expect(active).toBeDefined();
    expect(fs.version).toBe(0x00020001);
    expect(fs.statvfs()).toMatchObject({ blockSize: 4096, blockCount: 256, blocksFree: 254, nameMax: 255 });
  });

  test('mount rejects a blank or foreign region', () => {
    const flash = new MemoryFlashStore(64 * 4096);
    expect(errCode(() => LittleFs.mount(new BlockDevice(flash, 0, flash.size)))).toBe('ECORRUPT/84');
    flash.data.fill(0x5a);
    expect(errCode(() => LittleFs.mount(new BlockDevice(flash, 0, flash.size)))).toBe('ECORRUPT/84');
  });

  test('small (inline) and large (CTZ) files round-trip across remounts', () => {
    const { flash, fs, remount } = fresh(2 << 20);
    const sizes = [0, 1, 127, 128, 129, 4095, 4096, 4097, 8185, 8186, 65536, 300_000, 700_001];
    sizes.forEach((n, i) => fs.writeFile(`/f${i}`, randomBytes(n, i + 1)));
    const again = remount();
    sizes.forEach((n, i) => {
      const data = again.readFile(`/f${i}`);
      expect(data.length).toBe(n);
      expect(Buffer.compare(data, randomBytes(n, i + 1))).toBe(0);
      expect(again.stat(`/f${i}`)).toMatchObject({ type: 'file', size: n });
    });
    // The skip pointers (not just each block's first pointer) must lead to the right data.
    const root = again.fetch([0, 1]);
    const big = root.state.entries.find((e) => dec.decode(e.name) === `f${sizes.length - 1}`)!;
    expect(big.struct).toBe(0x202);
    const head = big.sdata[0] | (big.sdata[1] << 8) | (big.sdata[2] << 16);
    const expected = randomBytes(700_001, sizes.length);
    for (const pos of [0, 1, 4095, 4096, 5000, 123_457, 350_000, 699_999, 700_000]) {
      expect(ctzFind(flash, 4096, head, 700_001, pos)).toBe(expected[pos]);
    }
  });

  test('hundreds of files force metadata splits and survive removal of half', () => {
    const { fs, remount } = fresh();
    fs.mkdir('/many');
    const names = Array.from({ length: 400 }, (_, i) => `file-${String(i).padStart(4, '0')}-${'x'.repeat(i % 40)}.txt`);
    names.forEach((n, i) => fs.writeFile(`/many/${n}`, enc.encode(`content ${i}`)));
    const pairs = [...fs.pairs()].length;
    expect(pairs).toBeGreaterThan(5);
    let again = remount();
    expect(again.readdir('/many').map((e) => e.name).sort()).toEqual([...names].sort());
    names.forEach((n, i) => { if (i % 2 === 0) again.remove(`/many/${n}`); });
    again = remount();
    const left = again.readdir('/many').map((e) => e.name).sort();
    expect(left).toEqual(names.filter((_, i) => i % 2 === 1).sort());
    for (const n of left) expect(dec.decode(again.readFile(`/many/${n}`))).toBe(`content ${names.indexOf(n)}`);
  });

  test('deep directories', () => {
    const { fs, remount } = fresh();
    let path = '';
    for (let i = 0; i < 30; i++) {
      path += `/d${i}`;
      fs.mkdir(path);
      fs.writeFile(`${path}/leaf`, enc.encode(path));
    }
    const again = remount();
    path = '';
    for (let i = 0; i < 30; i++) {
      path += `/d${i}`;
      expect(dec.decode(again.readFile(`${path}/leaf`))).toBe(path);
      expect(again.readdir(path).map((e) => e.name).sort()).toEqual(i < 29 ? [`d${i + 1}`, 'leaf'] : ['leaf']);
    }
    expect(dec.decode(again.readFile('/d0/d1/../d1/./d2/leaf'))).toBe('/d0/d1/d2');
  });

  test('rename files and directories, within and across directories, replacing targets', () => {
    const { fs, remount } = fresh();
    fs.mkdir('/a');
    fs.mkdir('/b');
    fs.writeFile('/a/one', enc.encode('1'));
    fs.writeFile('/a/two', randomBytes(20_000, 2));
    fs.writeFile('/b/old', enc.encode('old'));
    fs.rename('/a/one', '/a/uno');
    fs.rename('/a/two', '/b/dos');
    fs.rename('/a/uno', '/b/old');
    fs.mkdir('/a/sub');
    fs.writeFile('/a/sub/x', enc.encode('x'));
    fs.rename('/a', '/c');
    fs.mkdir('/empty');
    fs.rename('/b', '/empty');
    let again = remount();
    expect(again.readdir('/').map((e) => e.name).sort()).toEqual(['c', 'empty']);
    expect(dec.decode(again.readFile('/empty/old'))).toBe('1');
    expect(Buffer.compare(again.readFile('/empty/dos'), randomBytes(20_000, 2))).toBe(0);
    expect(dec.decode(again.readFile('/c/sub/x'))).toBe('x');
    expect(errCode(() => again.rename('/c', '/empty'))).toBe('ENOTEMPTY/39');
    expect(errCode(() => again.rename('/c', '/c/sub/inside'))).toBe('EINVAL/22');
    expect(errCode(() => again.rename('/empty/old', '/c'))).toBe('EISDIR/21');
    expect(errCode(() => again.rename('/c', '/empty/old'))).toBe('ENOTDIR/20');
    expect(errCode(() => again.rename('/missing', '/x'))).toBe('ENOENT/2');
    // The replaced directory's pair left the metadata list: root, /c, /c/sub and /empty remain.
    again = remount();
    expect([...again.pairs()].length).toBe(4);
  });

  test('remove and the POSIX-style errors', () => {
    const { fs, remount } = fresh();
    fs.mkdir('/d');
    fs.writeFile('/d/f', enc.encode('f'));
    expect(errCode(() => fs.remove('/d'))).toBe('ENOTEMPTY/39');
    expect(errCode(() => fs.mkdir('/d'))).toBe('EEXIST/17');
    expect(errCode(() => fs.open('/nope', { read: true }))).toBe('ENOENT/2');
    expect(errCode(() => fs.open('/d/f/x', { read: true }))).toBe('ENOTDIR/20');
    expect(errCode(() => fs.open('/d', { read: true }))).toBe('EISDIR/21');
    expect(errCode(() => fs.open('/d/f', { write: true, create: true, excl: true }))).toBe('EEXIST/17');
    expect(errCode(() => fs.mkdir('/missing/x'))).toBe('ENOENT/2');
    expect(errCode(() => fs.writeFile(`/${'n'.repeat(256)}`, enc.encode('')))).toBe('ENAMETOOLONG/36');
    expect(errCode(() => fs.readdir('/d/f'))).toBe('ENOTDIR/20');
    expect(errCode(() => fs.remove('/ghost'))).toBe('ENOENT/2');
    const f = fs.open('/d/f', { read: true });
    expect(errCode(() => f.write(enc.encode('no')))).toBe('EBADF/9');
    f.close();
    fs.remove('/d/f');
    fs.remove('/d');
    const again = remount();
    expect(again.readdir('/')).toEqual([]);
    expect([...again.pairs()].length).toBe(1);
  });

  test('seek, overwrite, append and truncate match a byte-array model', () => {
    const { fs, remount } = fresh();
    let model = randomBytes(50_000, 9);
    fs.writeFile('/m', model);
    const f = fs.open('/m', { read: true, write: true });
    const r = rng(77);
    for (let step = 0; step < 60; step++) {
      const kind = r() % 3;
      if (kind === 0) {
        const pos = r() % (model.length + 5000);
        const data = randomBytes(1 + (r() % 9000), step);
        f.seek(pos);
        f.write(data);
        const next = new Uint8Array(Math.max(model.length, pos + data.length));
        next.set(model);
        next.set(data, pos);
        model = next;
      } else if (kind === 1) {
        const n = r() % (model.length + 3000);
        f.truncate(n);
        const next = new Uint8Array(n);
        next.set(model.subarray(0, Math.min(n, model.length)));
        model = next;
      } else {
        const pos = r() % (model.length + 1);
        f.seek(pos);
        expect(Buffer.compare(f.read(5000), model.subarray(pos, pos + 5000))).toBe(0);
      }
      if (step % 10 === 9) f.sync();
    }
    f.close();
    expect(Buffer.compare(remount().readFile('/m'), model)).toBe(0);
    const a = fs.open('/m', { write: true, append: true });
    a.write(enc.encode('tail'));
    a.close();
    expect(dec.decode(remount().readFile('/m').subarray(model.length))).toBe('tail');
  });

  test('a file removed while open vanishes; closing it is not an error', () => {
    const { fs, remount } = fresh();
    const f = fs.open('/gone', { write: true, create: true });
    f.write(randomBytes(20_000, 1));
    fs.remove('/gone');
    f.close();
    const again = remount();
    expect(again.readdir('/')).toEqual([]);
    expect(again.statvfs().blocksFree).toBe(again.blockCount - 2);
  });

  test('uncommitted writes are invisible until close', () => {
    const { fs, remount } = fresh();
    fs.writeFile('/x', enc.encode('before'));
    const f = fs.open('/x', { write: true, trunc: true });
    f.write(randomBytes(100_000, 3));
    expect(dec.decode(remount().readFile('/x'))).toBe('before');
    f.close();
    expect(remount().stat('/x').size).toBe(100_000);
  });

  test('a full disk gives ENOSPC and the filesystem keeps working', () => {
    const { fs, remount } = fresh(48 * 4096);
    const chunk = randomBytes(10_000, 5);
    let written = 0;
    let error = '';
    for (let i = 0; i < 100 && !error; i++) {
      try {
        fs.writeFile(`/fill${i}`, chunk);
        written++;
      } catch (err) {
        error = err instanceof LfsError ? `${err.code}/${err.errno}` : String(err);
      }
    }
    expect(error).toBe('ENOSPC/28');
    expect(written).toBeGreaterThan(10);
    expect(fs.statvfs().blocksFree).toBeLessThan(4);
    // The failed file kept its committed (empty) content; everything else is intact.
    let again = remount();
    for (let i = 0; i < written; i++) expect(Buffer.compare(again.readFile(`/fill${i}`), chunk)).toBe(0);
    for (let i = 0; i < 4; i++) again.remove(`/fill${i}`);
    again.writeFile('/after', chunk);
    again.mkdir('/dir-after');
    again = remount();
    expect(Buffer.compare(again.readFile('/after'), chunk)).toBe(0);
    expect(again.stat('/dir-after').type).toBe('dir');
  });

  test('a commit whose flash write fails leaves the mounted filesystem as committed (no remount)', () => {
    class FailingFlash extends MemoryFlashStore {
      failNext = false;
      override write(offset: number, data: Uint8Array): void {
        if (this.failNext) throw new LfsError('EIO', 'flash write failed');
        super.write(offset, data);
      }
    }
    const flash = new FailingFlash(64 * 4096);
    const fs = LittleFs.format(new BlockDevice(flash, 0, flash.size));
    for (let i = 0; i < 20; i++) fs.writeFile(`/f${i}`, enc.encode(`old ${i}`));
    // Each kind of tag a commit changes: an inline struct (rewrite), a name (rename), a splice (remove).
    const attempts: Array<() => void> = [
      () => fs.writeFile('/f3', enc.encode('new contents')),
      () => fs.rename('/f5', '/g5'),
      () => fs.remove('/f7'),
    ];
    for (const attempt of attempts) {
      flash.failNext = true;
      expect(attempt).toThrow(/flash write failed/);
      flash.failNext = false;
    }
    expect(fs.readdir('/').map((e) => e.name).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `f${i}`).sort());
    for (let i = 0; i < 20; i++) expect(dec.decode(fs.readFile(`/f${i}`))).toBe(`old ${i}`);
    fs.writeFile('/f3', enc.encode('new contents'));
    expect(dec.decode(fs.readFile('/f3'))).toBe('new contents');
  });

  test('a power cut at every single flash write of an operation leaves the old or the new state', () => {
    // Flash that loses power during write number `budget`: that write lands only in part (`tear` of it).
    class CutFlash extends MemoryFlashStore {
      budget = Infinity;
      tear = 0;
      override write(offset: number, data: Uint8Array): void {
        if (--this.budget > 0) return super.write(offset, data);
        super.write(offset, data.subarray(0, Math.floor(data.length * this.tear)));
        throw new Error('power cut');
      }
    }
    const base = fresh(64 * 4096);
    base.fs.mkdir('/a');
    base.fs.mkdir('/b');
    for (let i = 0; i < 30; i++) base.fs.writeFile(`/a/f${i}`, randomBytes(100 + i * 300, i));
    base.fs.mkdir('/a/empty');
    type Op = { run(fs: LittleFs): void; check(fs: LittleFs): 'old' | 'new' };
    const has = (fs: LittleFs, p: string) => { try { fs.stat(p); return true; } catch { return false; } };
    const ops: Record<string, Op> = {
      'rename across directories': {
        run: (fs) => fs.rename('/a/f7', '/b/g7'),
        check: (fs) => {
          expect(has(fs, '/a/f7') !== has(fs, '/b/g7')).toBe(true);
          const data = fs.readFile(has(fs, '/a/f7') ? '/a/f7' : '/b/g7');
          expect(Buffer.compare(data, randomBytes(100 + 7 * 300, 7))).toBe(0);
          return has(fs, '/b/g7') ? 'new' : 'old';
        },
      },
      'rmdir': {
        run: (fs) => fs.remove('/a/empty'),
        check: (fs) => (has(fs, '/a/empty') ? 'old' : 'new'),
      },
      'overwrite a multi-block file': {
        run: (fs) => fs.writeFile('/a/f29', randomBytes(30_000, 99)),
        check: (fs) => {
          const d = fs.readFile('/a/f29');
          if (Buffer.compare(d, randomBytes(30_000, 99)) === 0) return 'new';
          expect(Buffer.compare(d, randomBytes(100 + 29 * 300, 29))).toBe(0);
          return 'old';
        },
      },
    };
    for (const [name, op] of Object.entries(ops)) {
      const seen = new Set<string>();
      for (let step = 2; ; step++) {
        const budget = step >> 1;
        const flash = new CutFlash(base.flash.size, base.flash.data);
        flash.budget = budget;
        flash.tear = step & 1 ? 0.5 : 0;
        let finished = true;
        try {
          op.run(LittleFs.mount(new BlockDevice(flash, 0, flash.size)));
        } catch (err) {
          if ((err as Error).message !== 'power cut') throw err;
          finished = false;
        }
        flash.budget = Infinity;
        const after = LittleFs.mount(new BlockDevice(flash, 0, flash.size));
        seen.add(op.check(after));
        // Whatever state we landed in is consistent: no orphaned pairs, and it still takes writes.
        expect(checkImage(flash.data, 4096).problems, `${name} cut at write ${budget}`).toEqual([]);
        after.writeFile('/probe', new Uint8Array([1]));
        if (finished) break;
      }
      expect([...seen].sort(), name).toEqual(['new', 'old']);
    }
  });

  test('mount repairs a directory relocation that power loss left half done (half-orphan)', () => {
    const { fs, remount } = fresh(64 * 4096);
    fs.mkdir('/x');
    fs.writeFile('/x/f', enc.encode('hello'));
    // Relocate /x as littlefs does when a block wears out: copy it to a new block, point the parent at the
    // new pair (with the orphan flag raised), and stop before the metadata list is updated.
    const internals = fs as unknown as {
      compact(d: unknown, state: unknown): void; commit(d: unknown, ops: unknown[]): void; setOrphans(n: number): void;
      alloc(): number;
    };
    const root = fs.fetch([0, 1]);
    const id = root.state.entries.findIndex((e) => dec.decode(e.name) === 'x');
    const old = fs.fetch([root.state.entries[id].sdata[0], root.state.entries[id].sdata[4]]);
    const moved = { pair: [old.pair[0], internals.alloc()], rev: old.rev, off: 0, etag: 0, erased: false, state: old.state };
    internals.compact(moved, old.state);
    internals.setOrphans(+1);
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, moved.pair[0], true);
    new DataView(bytes.buffer).setUint32(4, moved.pair[1], true);
    internals.commit(root, [{ type: 0x200, id, data: bytes }]);
    expect(root.state.tail).toEqual(old.pair);

    const again = remount();
    expect([...again.pairs()].map((d) => [...d.pair].sort((a, b) => a - b))).toEqual([[0, 1], [...moved.pair].sort((a, b) => a - b)]);
    expect(dec.decode(again.readFile('/x/f'))).toBe('hello');
    again.writeFile('/x/g', enc.encode('more'));
    expect(remount().readdir('/x').map((e) => e.name)).toEqual(['f', 'g']);
  });

  /**
   * Files in /, /lib, then the root moved to a new pair as littlefs's superblock expansion does; {0,1} keeps the
   * superblock entry or (as real littlefs leaves it) no entry at all, with a hard tail to the new pair.
   */
  function expandRoot(fs: LittleFs, keepSuperblock: boolean): { pair: number[] } {
    fs.mkdir('/lib');
    fs.writeFile('/main.py', enc.encode('main'));
    fs.writeFile('/lib/a.py', enc.encode('a'));
    const internals = fs as unknown as { compact(d: unknown, state: unknown): void; alloc(): number };
    const root = fs.fetch([0, 1]);
    const expanded = { pair: [internals.alloc(), internals.alloc()], rev: 0, off: 0, etag: 0, erased: false, state: root.state };
    internals.compact(expanded, { ...root.state, entries: root.state.entries });
    const left = { ...root.state, entries: keepSuperblock ? [root.state.entries[0]] : [], tail: expanded.pair, split: true };
    internals.compact(root, left);
    // Twice when emptying, so neither block of {0,1} still carries the superblock magic from before.
    if (!keepSuperblock) internals.compact(root, left);
    return expanded;
  }

  test('reads and extends a root that littlefs moved out of the superblock pair (superblock expansion)', () => {
    const { fs, remount } = fresh(64 * 4096);
    // {0,1} keeps only the superblock and hard-tails to a new pair holding a copy of it and every root entry.
    expandRoot(fs, true);

    let again = remount();
    expect(again.readdir('/').map((e) => e.name)).toEqual(['lib', 'main.py']);
    expect(dec.decode(again.readFile('/lib/a.py'))).toBe('a');
    again.writeFile('/new.txt', enc.encode('n'));
    again.mkdir('/d');
    again.remove('/main.py');
    again = remount();
    expect(again.readdir('/').map((e) => e.name).sort()).toEqual(['d', 'lib', 'new.txt']);
    expect(again.fetch([0, 1]).state.entries.length).toBe(1);
    expect(checkImage((again.bd.flash as MemoryFlashStore).data, 4096).problems).toEqual([]);
  });

  test('mounts the layout littlefs really leaves after expanding the superblock: {0,1} holds no entries', () => {
    // Checked against the reference C library (littlefs v2.9, block_cycles 100): after 5000 rewrites of a root
    // file, blocks {0,1} hold a commit with no entries at all, only a hard tail to the pair now holding the
    // superblock entry (id 0) and every root entry. That pair is the root directory from then on.
    const { flash, fs, remount } = fresh(64 * 4096);
    const expanded = expandRoot(fs, false);

    let again = remount();
    expect([...again.root].sort((a, b) => a - b)).toEqual([...expanded.pair].sort((a, b) => a - b));
    expect(again.readdir('/').map((e) => e.name)).toEqual(['lib', 'main.py']);
    expect(dec.decode(again.readFile('/lib/a.py'))).toBe('a');
    again.writeFile('/new.txt', enc.encode('n'));
    again.mkdir('/d');
    again.writeFile('/d/x', enc.encode('x'));
    again.remove('/main.py');
    again.rename('/lib/a.py', '/d/a.py');
    again = remount();
    expect(again.readdir('/').map((e) => e.name).sort()).toEqual(['d', 'lib', 'new.txt']);
    expect(again.readdir('/d').map((e) => e.name).sort()).toEqual(['a.py', 'x']);
    expect(again.fetch([0, 1]).state.entries.length).toBe(0);
    // The image tools find the block size without a superblock in block 0 or 1.
    expect(listImage(flash.data).entries.map((e) => e.path)).toEqual(['/d', '/d/a.py', '/d/x', '/lib', '/new.txt']);
    expect(checkImage(flash.data).problems).toEqual([]);
  });

  test('new names keep a split directory sorted across its pairs, as littlefs lookups require', () => {
    // littlefs's name lookup walks a directory's pairs and stops at the first pair holding a name that sorts
    // after the one sought (bytewise, a longer name before its own prefix). Checked against the reference C
    // library: a name appended to the last pair while an earlier pair holds a greater name is listed by
    // lfs_dir_read but lfs_stat/lfs_file_open report LFS_ERR_NOENT for it.
    const { fs, remount } = fresh(1 << 20);
    fs.mkdir('/lots');
    for (let i = 0; i < 300; i++) fs.writeFile(`/lots/m${String(i).padStart(3, '0')}`, randomBytes(40, i));
    fs.mkdir('/lots/a0');
    fs.writeFile('/lots/a0/inner', enc.encode('inner'));
    for (const n of ['aa', 'm1', 'm150x', 'm2990', 'zz']) fs.writeFile(`/lots/${n}`, enc.encode(n));
    fs.rename('/lots/m100', '/lots/a1');
    const again = remount();
    const cmp = (a: Uint8Array, b: Uint8Array) => {
      for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
      return b.length - a.length;
    };
    const head = again.fetch([0, 1]).state.entries.find((e) => dec.decode(e.name) === 'lots')!.sdata;
    let d = again.fetch([head[0] | (head[1] << 8), head[4] | (head[5] << 8)]);
    const names: Uint8Array[] = [];
    let pairs = 1;
    for (;;) {
      names.push(...d.state.entries.map((e) => e.name));
      if (!d.state.split) break;
      d = again.fetch(d.state.tail);
      pairs++;
    }
    expect(pairs).toBeGreaterThan(1);
    expect(names.length).toBe(306);
    for (let i = 1; i < names.length; i++) expect(cmp(names[i - 1], names[i]), dec.decode(names[i])).toBeLessThan(0);
    // The new directory's pair is threaded after the last pair of /lots, so the list stays one directory
    // after another; its entry sits in the first pair.
    const list = [...again.pairs()].map((p) => p.pair.join());
    const a0 = again.stat('/lots/a0');
    expect(a0.type).toBe('dir');
    expect(dec.decode(again.readFile('/lots/a0/inner'))).toBe('inner');
    expect(list.length).toBe(pairs + 2);
    expect(checkImage((again.bd.flash as MemoryFlashStore).data, 4096).problems).toEqual([]);
  });

  test('lfs2.0 disks are kept 2.0: commits carry no forward CRC, which 2.0 readers would reject', () => {
    const { flash, fs, remount } = fresh(64 * 4096);
    expect(fs.version).toBe(0x00020001);
    const old = LittleFs.format(new BlockDevice(flash, 0, flash.size), { diskVersion: 0x00020000 });
    for (let i = 0; i < 40; i++) old.writeFile(`/f${i % 7}`, randomBytes(50 + i * 40, i));
    old.mkdir('/d');
    old.rename('/f1', '/d/f1');
    const again = remount();
    expect(again.version).toBe(0x00020000);
    expect(Buffer.compare(again.readFile('/d/f1'), randomBytes(50 + 36 * 40, 36))).toBe(0);
    // No FCRC tag (type 0x5ff) in any commit of any metadata block; a 2.1 disk does have them.
    const tagTypes = (lfs: LittleFs) => {
      const types = new Set<number>();
      for (const d of lfs.pairs()) {
        for (const block of d.pair) {
          const b = flash.data.subarray(block * 4096, block * 4096 + 4096);
          let ptag = 0xffffffff;
          for (let off = 4; off + 4 <= 4096;) {
            const tag = ((((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0) ^ ptag) >>> 0;
            if (tag & 0x80000000) break;
            types.add((tag >>> 20) & 0x7ff);
            ptag = ((tag >>> 20) & 0x780) === 0x500 ? (tag ^ (((tag >>> 20) & 1) << 31)) >>> 0 : tag;
            off += 4 + ((tag & 0x3ff) === 0x3ff ? 0 : tag & 0x3ff);
          }
        }
      }
      return types;
    };
    expect(tagTypes(again).has(0x5ff)).toBe(false);
    const current = LittleFs.format(new BlockDevice(flash, 0, flash.size));
    current.writeFile('/x', enc.encode('x'));
    expect(tagTypes(current).has(0x5ff)).toBe(true);
  });

  test('works in place on a FileFlashStore region at an offset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lfs-'));
    try {
      const path = join(dir, 'flash.bin');
      const flash = FileFlashStore.create(path, 4 << 20);
      const fs = LittleFs.format(new BlockDevice(flash, 0x200000, 0x200000));
      fs.writeFile('/main.py', enc.encode('print(1)\n'));
      flash.close();
      const again = new FileFlashStore(path);
      expect(again.read(0, 0x200000).every((b) => b === 0xff)).toBe(true);
      expect(dec.decode(LittleFs.mount(new BlockDevice(again, 0x200000, 0x200000)).readFile('/main.py'))).toBe('print(1)\n');
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
