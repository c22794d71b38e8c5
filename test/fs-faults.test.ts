// One link fault at a time, placed where it hurts (issue 13 items 2, 3 and 8), on the real virtual board:
// a flipped or lost byte in the data, in boardctl's own helper, in a user's program, in the manifest or in
// the board's confirmation. Each ends in the right bytes (sent again) or a clear error, never in wrong data,
// a wrong name or a wait forever.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BoardError } from '../protocol/errors.js';
import { downloadFiles } from '../protocol/fs/download.js';
import { setHelperIdleTimeout } from '../protocol/fs/helper.js';
import { uploadFiles } from '../protocol/fs/upload.js';
import { RawReplClient } from '../protocol/raw-repl.js';
import { TargetedFaults } from './helpers/targeted-faults.js';

const home = mkdtempSync(join(tmpdir(), 'boardctl-fs-faults-'));
process.env.BOARDCTL_HOME = home;
const host = mkdtempSync(join(tmpdir(), 'boardctl-fs-faults-host-'));
const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');
/** Random bytes that travel unescaped, so a pattern taken from the data is found on the wire as it is. */
const plainRandom = (n: number) => Buffer.from(randomBytes(n).map((b) => (b <= 4 || b === 0x1b ? 0x55 : b)));

let link: TargetedFaults;
let board: RawReplClient;

beforeAll(async () => {
  const { createBoard } = await import('../emulator/board-store.js');
  createBoard('fs-faults');
}, 60_000);

async function connect(): Promise<void> {
  const { openVirtualTransport } = await import('../emulator/board.js');
  link = new TargetedFaults(await openVirtualTransport('virtual:fs-faults'));
  // Short enough that a lost byte ends quickly, long enough that a loaded machine is not taken for one.
  board = new RawReplClient(link, { replyTimeoutMs: 3000 });
  setHelperIdleTimeout(board, 3000);
}

afterEach(async () => {
  await board?.close();
});

afterAll(async () => {
  const { closeAllVirtualBoards } = await import('../emulator/board.js');
  await closeAllVirtualBoards();
  rmSync(home, { recursive: true, force: true });
  rmSync(host, { recursive: true, force: true });
});

const onBoard = async (path: string) =>
  (await board.exec(`import hashlib,binascii\ntry:print(binascii.hexlify(hashlib.sha256(open(${JSON.stringify(path)},'rb').read()).digest()).decode())\nexcept OSError:print('-')`)).stdout.trim();

describe('a single link fault', () => {
  it('a flipped data byte on the way up: the board notices, the file is sent again, the right bytes land', async () => {
    await connect();
    const data = plainRandom(3000);
    link.arm('to-board', data.subarray(1000, 1016), 4, 'flip');
    const [r] = await uploadFiles(board, [{ dest: '/flip.bin', data }]);
    expect(link.hits).toBe(1);
    expect(r).toMatchObject({ ok: true, attempts: 2 });
    expect(await onBoard('/flip.bin')).toBe(sha(data));
  });

  it('a data byte the link turns into Ctrl-C: the board stops the receiver, the file is sent again, the right bytes land', async () => {
    await connect();
    const data = plainRandom(3000);
    data[1004] = 0x0b; // 0x0b ^ 0x08 = 0x03: the board takes it as an interrupt, not as data
    link.arm('to-board', data.subarray(1000, 1016), 4, 'flip');
    const [r] = await uploadFiles(board, [{ dest: '/ctrlc.bin', data }]);
    expect(link.hits).toBe(1);
    expect(r).toMatchObject({ ok: true, attempts: 2 });
    expect(await onBoard('/ctrlc.bin')).toBe(sha(data));
    expect((await board.exec("import os;print([n for n in os.listdir('/') if n.startswith('.~bctmp')])")).stdout.trim()).toBe('[]');
  });

  it('a lost data byte on the way up ends the wait (TIMEOUT, bounded), and the retry delivers', async () => {
    await connect();
    const data = plainRandom(3000);
    link.arm('to-board', data.subarray(500, 516), 3, 'drop');
    const started = Date.now();
    const [r] = await uploadFiles(board, [{ dest: '/drop.bin', data }]);
    expect(link.hits).toBe(1);
    expect(r).toMatchObject({ ok: true, attempts: 2 });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await onBoard('/drop.bin')).toBe(sha(data));
    // Without retries the same fault is a clear TIMEOUT naming the file, and the old file is untouched.
    const other = plainRandom(3000);
    link.arm('to-board', other.subarray(500, 516), 3, 'drop');
    const [once] = await uploadFiles(board, [{ dest: '/drop.bin', data: other }], [], { retries: 0 });
    expect(once).toMatchObject({ ok: false, code: 'TIMEOUT' });
    expect(await onBoard('/drop.bin')).toBe(sha(data));
    expect((await board.exec("import os;print([n for n in os.listdir('/') if n.startswith('.~bctmp')])")).stdout.trim()).toBe('[]');
  });

  it('a flipped byte in boardctl\'s own helper: it refuses to run, is sent again, and nothing lands under a wrong name', async () => {
    await connect();
    const data = Buffer.from('print("target")\n');
    // The manifest names the target; one damaged byte there once moved a file to another name.
    link.arm('to-board', '/target_a.py', 1, 'drop');
    const [r] = await uploadFiles(board, [{ dest: '/target_a.py', data }]);
    expect(link.hits).toBe(1);
    expect(r).toMatchObject({ ok: true, path: '/target_a.py' });
    expect(await onBoard('/target_a.py')).toBe(sha(data));
    expect(await onBoard('/arget_a.py')).toBe('-');
  });

  it('a helper damaged on every try is a link error, exit 6, with a one-line hint — not a traceback', async () => {
    await connect();
    link.arm('to-board', 'import sys,os', 2, 'flip', 100);
    const err = await uploadFiles(board, [{ dest: '/never.py', data: Buffer.from('x = 1\n') }]).then(
      (r) => r[0],
      (e: unknown) => e,
    );
    const e = err instanceof BoardError ? err : new BoardError((err as { code: 'INTERNAL' }).code, (err as { error: string }).error);
    expect(e.code).toBe('LINK_DAMAGED');
    expect(e.exitCode).toBe(6);
    expect(e.message).toMatch(/the board received a damaged command; check the cable or lower the baud rate$/);
    expect(e.message).not.toMatch(/Traceback|SyntaxError|NameError/);
  });

  it("a flipped byte in a user's program: the board refuses the damaged copy, the program runs once, as sent", async () => {
    await connect();
    await board.exec('runs = 0');
    link.arm('to-board', 'runs += 1', 2, 'flip');
    const r = await board.exec('runs += 1\nprint("runs", runs)');
    expect(link.hits).toBe(1);
    expect(r.stdout).toBe('runs 1\r\n');
  });

  it('a flipped data byte on the way down: the host notices, fetches the file again, writes the right bytes', async () => {
    await connect();
    const data = Buffer.from('abcdefghijklmnopqrstuvwxyz'.repeat(200));
    await uploadFiles(board, [{ dest: '/down.txt', data }]);
    link.arm('from-board', 'klmnopqrstuvwxyzabcdefgh', 5, 'flip');
    const dest = join(host, 'down.txt');
    const [r] = await downloadFiles(board, [{ src: '/down.txt', dest }], { compress: false });
    expect(link.hits).toBe(1);
    expect(r).toMatchObject({ ok: true, attempts: 2 });
    expect(readFileSync(dest).equals(data)).toBe(true);
    expect(readdirSync(host).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it("a damaged confirmation from the board (its echo of the name and digest) is never taken for success", async () => {
    await connect();
    const data = randomBytes(2000);
    link.arm('from-board', "F 0 0 '/echo.bin' ", 20, 'flip');
    const [r] = await uploadFiles(board, [{ dest: '/echo.bin', data }], [], { retries: 0 });
    // (Seen in CI runs: no hit and a successful upload; the message shows what the board sent instead.)
    expect(link.hits, `result ${JSON.stringify(r)}; the board's last bytes ${link.lastFromBoard()}`).toBe(1);
    expect(r).toMatchObject({ ok: false, code: 'LINK_DAMAGED' });
    expect(r!.error).toMatch(/the board checked other bytes than were sent/);
    // The file itself did arrive whole (the damage was in the reply): sending it again is harmless.
    const [again] = await uploadFiles(board, [{ dest: '/echo.bin', data }]);
    expect(again).toMatchObject({ ok: true });
    expect(await onBoard('/echo.bin')).toBe(sha(data));
  });

  it('a download whose transfer failed leaves no host file behind', async () => {
    await connect();
    const data = Buffer.from('0123456789'.repeat(300));
    await uploadFiles(board, [{ dest: '/gone.txt', data }]);
    link.arm('from-board', '3456789012', 3, 'flip', 10);
    const dest = join(host, 'gone.txt');
    const [r] = await downloadFiles(board, [{ src: '/gone.txt', dest }], { compress: false, retries: 1 });
    expect(r).toMatchObject({ ok: false, code: 'LINK_DAMAGED' });
    expect(existsSync(dest)).toBe(false);
    expect(readdirSync(host).filter((n) => n.startsWith('.gone'))).toEqual([]);
  });
});
