// The client on real firmware (qemu lfs.elf, see test/helpers/qemu.ts) against the virtual board at 115200
// baud: 64 KB up and down (bytes/s, and the share of the link's own limit, measured first in the same run by
// a board program that only reads or only prints), and the exec round trip (with and without the checksum
// guard every program carries). Skips with a message where qemu or the firmware is missing.
// Run: npm run build && BOARDCTL_SHARED=/path/to/shared node dist/bench/qemu.js
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBoard } from '../cli/api.js';
import type { Board } from '../protocol/board.js';
import { readBoardFiles } from '../protocol/fs/download.js';
import { uploadFiles } from '../protocol/fs/upload.js';
import { boardCapabilities } from '../protocol/fs/capabilities.js';
import { RawReplClient } from '../protocol/raw-repl.js';
import { qemuMissing, startQemu } from '../test/helpers/qemu.js';

const SIZE = 64 * 1024;
const BAUD = 115200;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rate = (bytes: number, ms: number) => bytes / (ms / 1000);
const kb = (bps: number) => `${(bps / 1024).toFixed(1)} KB/s`;

/** The board reads SIZE bytes from stdin `window` at a time, answering each window with one byte when `acked`. */
async function readRate(board: Board, window: number, acked: boolean): Promise<number> {
  const ack = acked ? "sys.stdout.write('A')" : 'pass';
  let acks = 0;
  let more: (() => void) | undefined;
  const run = await board.start(`import sys\nb=bytearray(${window});n=0\nprint('go')\nwhile n<${SIZE}:\n n+=sys.stdin.buffer.readinto(b) or 0\n ${ack}\nprint('done')`, {
    onStdoutBytes: (b) => {
      acks += b.filter((c) => c === 0x41).length;
      more?.();
    },
  });
  await new Promise((r) => setTimeout(r, 200));
  const t0 = performance.now();
  if (!acked) await run.write(Buffer.alloc(SIZE, 0x61));
  else {
    // Two windows in flight, as uploads keep them.
    for (let sent = 0; sent < SIZE; sent += window) {
      while (sent >= (acks + 2) * window) await new Promise<void>((r) => (more = r));
      await run.write(Buffer.alloc(window, 0x61));
    }
  }
  await run.done;
  return rate(SIZE, performance.now() - t0);
}

/**
 * Raw link limits: the board only reads 64 KB from stdin (all at once, and in acknowledged 256-byte windows:
 * some links, qemu's UART among them, move bytes faster when the host never floods them), or only prints 64 KB
 * (to the binary stdout where downloads use it).
 */
async function linkLimits(board: Board, binary: boolean): Promise<{ up: number; down: number }> {
  const out = binary ? 'sys.stdout.buffer' : 'sys.stdout';
  const up = Math.max(await readRate(board, 1024, false), await readRate(board, 256, true));
  let got = 0;
  const t1 = performance.now();
  await board.exec(`import sys\nb=b'a'*1024\nfor i in range(${SIZE / 1024}):${out}.write(b)`, { onStdoutBytes: (b) => (got += b.length) });
  const down = rate(got, performance.now() - t1);
  return { up, down };
}

/** Rounds of limit-then-transfer, best of each kept: qemu shares the host's cores, so one sample on a busy machine says little. */
const ROUNDS = 3;

async function measure(label: string, board: Board): Promise<void> {
  const caps = await boardCapabilities(board);
  const data = randomBytes(SIZE);
  const ups: number[] = [];
  const downs: number[] = [];
  const upLimits: number[] = [];
  const downLimits: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const limits = await linkLimits(board, caps.download === 'raw');
    upLimits.push(limits.up);
    downLimits.push(limits.down);
    let t = performance.now();
    const [up] = await uploadFiles(board, [{ dest: '/bench.bin', data }]);
    if (!up?.ok) throw new Error(`upload failed: ${up?.error}`);
    ups.push(rate(SIZE, performance.now() - t));
    t = performance.now();
    const [down] = await readBoardFiles(board, ['/bench.bin']);
    if (!down?.result.ok || !Buffer.from(down.data).equals(data)) throw new Error('download mismatch');
    downs.push(rate(SIZE, performance.now() - t));
  }
  const limits = { up: Math.max(...upLimits), down: Math.max(...downLimits) };
  const upRate = Math.max(...ups);
  const downRate = Math.max(...downs);
  const rtt = async (b: Board) => {
    const xs: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t0 = performance.now();
      await b.exec('pass');
      xs.push(performance.now() - t0);
    }
    return median(xs);
  };
  const guarded = await rtt(board);
  const bareClient = new RawReplClient(board.transport, { resume: true, checkPrograms: false });
  const bare = await rtt(bareClient);
  await bareClient.release();
  console.log(`${label}`);
  console.log(`  best of ${ROUNDS} rounds`);
  console.log(`  link limit      up ${kb(limits.up).padStart(11)}   down ${kb(limits.down).padStart(11)}`);
  console.log(`  64 KB random    up ${kb(upRate).padStart(11)} (${((100 * upRate) / limits.up).toFixed(0)}% of limit)   down ${kb(downRate).padStart(11)} (${((100 * downRate) / limits.down).toFixed(0)}% of limit)`);
  console.log(`  exec round trip ${guarded.toFixed(1)} ms (bare, without the checksum guard: ${bare.toFixed(1)} ms)`);
  console.log(`  channels: upload ${caps.upload}, download ${caps.download}, deflate ${caps.deflate}, hashlib ${caps.hashlib}`);
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'boardctl-bench-qemu-'));
  process.env.BOARDCTL_HOME = home;
  const { createBoard } = await import('../emulator/board-store.js');
  const { closeAllVirtualBoards } = await import('../emulator/board.js');
  try {
    const missing = qemuMissing('lfs');
    if (missing) console.log(`qemu lfs.elf: skipped (${missing})`);
    else {
      const q = await startQemu('lfs');
      try {
        const board = await openBoard(q.path);
        await measure(`qemu lfs.elf on ${q.path} (real MicroPython firmware; qemu's UART has no baud rate)`, board);
        await board.close();
      } finally {
        await q.stop();
      }
    }
    createBoard('bench-qemu');
    const virtual = await openBoard(`virtual:bench-qemu?baud=${BAUD}`);
    await measure(`virtual board at ${BAUD} baud (8N1: ${BAUD / 10} bytes/s each way)`, virtual);
    await virtual.close();
  } finally {
    await closeAllVirtualBoards();
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
