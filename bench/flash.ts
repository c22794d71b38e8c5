// Flashing a served board as a user does: `boardctl sim serve --baud 115200` (a UART paced at the rate the ROM is
// told by CHANGE_BAUDRATE), flashed over its pty at 460800 baud in ROM mode and with a stub, 1 MB of random and of
// firmware-like data, fresh and unchanged (skipped by MD5). Each time (median of BENCH_FLASH_RUNS: connect, write,
// verify, leave) is printed as a fraction of the wire limit, the deflated bytes at the line rate. The row
// "stub, window 1" sends one block at a time as esptool does (its stub's time without Python, on this board).
// Where esptool is installed (`esptool` on PATH, or BENCH_ESPTOOL="python3 -m esptool"), the same board is
// flashed by it too (whole command), and every time is printed as a ratio to esptool's with its stub.
// Run: npm run build && node dist/bench/flash.js   (BENCH_FLASH_KB: image size, default 1024)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connectEsp, disconnectEsp } from '../flash/esp-connect.js';
import { deflateForFlash, writeFlash } from '../flash/write-flash.js';
import { openTransport } from '../protocol/connect.js';
import { parseStubJson } from '../protocol/esp/stub.js';

const KB = Number(process.env.BENCH_FLASH_KB ?? 1024);
const RUNS = Number(process.env.BENCH_FLASH_RUNS ?? 3);
const BAUD = 460800;
const ADDRESS = 0x10000;
const cli = new URL('../cli/boardctl.cjs', import.meta.url).pathname;
const home = mkdtempSync(join(tmpdir(), 'boardctl-bench-flash-'));
const env = { ...process.env, BOARDCTL_HOME: home };

/** Firmware-like data: one byte in four is noise, the rest low-entropy, so deflate saves about what it saves on apps. */
function firmwareLike(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = i % 4 === 0 ? x >>> 24 : (x >>> 28) & 0x07;
  }
  return out;
}

function random(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; // xorshift32
    out[i] = x >>> 24;
  }
  return out;
}

// Only MEM_END's entry point matters to the virtual ROM; the bytes stand in for esptool's stub (about its size).
const STUB = parseStubJson(JSON.stringify({ entry: 0x40080000, text: Buffer.alloc(12 * 1024, 0x11).toString('base64'), text_start: 0x40080000 }));

/** `esptool` as installed here, or undefined. */
function findEsptool(): string[] | undefined {
  const candidates = [process.env.BENCH_ESPTOOL, 'esptool', 'esptool.py'].filter((c): c is string => !!c);
  for (const c of candidates) {
    const [cmd, ...args] = c.split(' ');
    if (spawnSync(cmd!, [...args, 'version'], { stdio: 'ignore' }).status === 0) return [cmd!, ...args];
  }
  return undefined;
}

function serve(): Promise<{ child: ChildProcess; pty: string }> {
  spawnSync(process.execPath, [cli, 'sim', 'create', 'bench'], { env, stdio: 'ignore' });
  const child = spawn(process.execPath, [cli, 'sim', 'serve', 'bench', '--baud', '115200'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((ok, fail) => {
    createInterface({ input: child.stdout! }).once('line', (line) => (line.startsWith('pty: ') ? ok({ child, pty: line.slice(5).trim() }) : fail(new Error(line))));
    child.once('exit', (code) => fail(new Error(`sim serve exited ${code}`)));
  });
}

/** Wall time of one esptool command, in seconds; throws with its output when it fails. */
function esptoolRun(esptool: string[], pty: string, stub: boolean, file: string): Promise<number> {
  const [cmd, ...pre] = esptool;
  const args = [...pre, '--port', pty, '--baud', String(BAUD), '--before', 'no-reset', '--after', 'no-reset', ...(stub ? [] : ['--no-stub']),
    'write-flash', '--skip-flashed', `0x${ADDRESS.toString(16)}`, file];
  return new Promise((ok, fail) => {
    const t = performance.now();
    const child = spawn(cmd!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    child.stderr!.on('data', (d: Buffer) => (out += d));
    child.on('close', (code) => (code === 0 ? ok((performance.now() - t) / 1000) : fail(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out}`))));
  });
}

/** Our flasher, in this process: connect (stub or ROM), write (skipping when unchanged), leave in the ROM. */
async function ours(pty: string, stub: boolean, window: number, data: Uint8Array): Promise<number> {
  const t = performance.now();
  const transport = await openTransport(pty);
  try {
    const session = await connectEsp(transport, { baud: BAUD, stub: stub ? STUB : undefined });
    await writeFlash(session, [{ address: ADDRESS, data }], { window });
    await disconnectEsp(session, 'no-reset');
  } finally {
    await transport.close();
  }
  return (performance.now() - t) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Way {
  label: string;
  stub: boolean;
  run: (pty: string, data: Uint8Array, file: string) => Promise<number>;
}
const esptool = findEsptool();
const ways: Way[] = [
  { label: 'boardctl ROM', stub: false, run: (pty, data) => ours(pty, false, 2, data) },
  { label: 'boardctl stub', stub: true, run: (pty, data) => ours(pty, true, 2, data) },
  { label: 'stub, window 1', stub: true, run: (pty, data) => ours(pty, true, 1, data) },
  ...(esptool
    ? [
        { label: 'esptool ROM', stub: false, run: (pty: string, _: Uint8Array, file: string) => esptoolRun(esptool, pty, false, file) },
        { label: 'esptool stub', stub: true, run: (pty: string, _: Uint8Array, file: string) => esptoolRun(esptool, pty, true, file) },
      ]
    : []),
];

const { child: server, pty } = await serve();
try {
  console.log(`served board on ${pty}, UART paced at ${BAUD} baud (8N1) after CHANGE_BAUDRATE; ${KB} KB images, median of ${RUNS}`);
  console.log(esptool ? `esptool: ${esptool.join(' ')} (times of the whole command)` : 'esptool is not installed here: times are against the wire limit only');
  console.log('data       way              fresh s  of wire limit  unchanged s  fresh vs esptool stub');
  let seed = 1;
  for (const [kind, make] of [['random', random], ['firmware', firmwareLike]] as const) {
    const rows: { way: Way; fresh: number; unchanged: number; limit: number }[] = [];
    for (const way of ways) {
      const fresh: number[] = [];
      const unchanged: number[] = [];
      let limit = 0;
      for (let r = 0; r < RUNS; r++) {
        const data = make(KB * 1024, seed++);
        limit = deflateForFlash(data).length / (BAUD / 10);
        const file = join(home, `${kind}.bin`);
        writeFileSync(file, data);
        fresh.push(await way.run(pty, data, file));
        unchanged.push(await way.run(pty, data, file));
      }
      rows.push({ way, fresh: median(fresh), unchanged: median(unchanged), limit });
    }
    const base = rows.find((r) => r.way.label === 'esptool stub')?.fresh;
    for (const row of rows) {
      const vs = base ? `${(row.fresh / base).toFixed(2)}×` : '-';
      console.log(
        `${kind.padEnd(10)} ${row.way.label.padEnd(15)} ${row.fresh.toFixed(2).padStart(8)}  ` +
          `${`${((100 * row.limit) / row.fresh).toFixed(0)}%`.padStart(13)}  ${row.unchanged.toFixed(2).padStart(11)}  ${vs.padStart(21)}`,
      );
    }
  }
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(home, { recursive: true, force: true });
}
