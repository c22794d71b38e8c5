// Upload and download throughput at an emulated 115200 baud (8N1: 11,520 bytes/s on the wire), for
// 100 KB of random bytes and 100 KB of Python source, as a share of that wire limit.
// Run: npm run build && node dist/bench/transfer.js   (or: npx vite-node bench/transfer.ts)
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BAUD = 115200;
const WIRE_LIMIT = BAUD / 10;
const SIZE = 100 * 1024;

/**
 * Real Python source: the host's standard library when there is one (it compresses like real code),
 * else generated code with varied names and numbers.
 */
function pythonSource(size: number): Buffer {
  for (const dir of ['/usr/lib/python3', ...readdirSafe('/usr/lib').filter((d) => /^python3\.\d+$/.test(d)).map((d) => `/usr/lib/${d}`)]) {
    const files = readdirSafe(dir).filter((f) => f.endsWith('.py')).sort();
    const parts: Buffer[] = [];
    let total = 0;
    for (const f of files) {
      if (total >= size) break;
      const text = readFileSync(join(dir, f));
      parts.push(text);
      total += text.length;
    }
    if (total >= size) return Buffer.concat(parts).subarray(0, size);
  }
  let out = '';
  for (let i = 0; out.length < size; i++) {
    out += `def handler_${(i * 7919) % 10007}(event, limit=${(i * 31) % 997}):\n    value = event.get("k${i % 53}", ${i}) * ${(i * 17) % 89}\n    return min(value, limit)  # step ${i}\n\n`;
  }
  return Buffer.from(out.slice(0, size));
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'boardctl-bench-'));
  process.env.BOARDCTL_HOME = home;
  const { openBoard } = await import('../cli/api.js');
  const { createBoard } = await import('../emulator/board-store.js');
  createBoard('bench-transfer');
  const { boardCapabilities } = await import('../protocol/fs/capabilities.js');
  const { uploadFiles } = await import('../protocol/fs/upload.js');
  const { readBoardFiles } = await import('../protocol/fs/download.js');
  const board = await openBoard(`virtual:bench-transfer?baud=${BAUD}`);
  try {
    let t = performance.now();
    const caps = await boardCapabilities(board);
    console.log(`probe (once per connection): ${(performance.now() - t).toFixed(0)} ms, upload channel ${caps.upload}, download channel ${caps.download}${caps.deflate ? ' (+ deflate)' : ''}`);
    const report = (what: string, bytes: number, ms: number, wire?: number) => {
      const rate = bytes / (ms / 1000);
      const extra = wire !== undefined ? `, ${wire} wire bytes` : '';
      console.log(`${what.padEnd(28)} ${(ms / 1000).toFixed(2).padStart(6)} s  ${Math.round(rate).toString().padStart(6)} B/s  ${((100 * rate) / WIRE_LIMIT).toFixed(1).padStart(6)}% of wire limit${extra}`);
    };
    for (const [name, data, dest] of [
      ['random 100 KB', randomBytes(SIZE), '/bench.bin'],
      ['python source 100 KB', pythonSource(SIZE), '/bench.py'],
    ] as const) {
      t = performance.now();
      const [up] = await uploadFiles(board, [{ dest, data }]);
      if (!up?.ok) throw new Error(`upload failed: ${up?.error}`);
      report(`upload ${name}`, data.length, performance.now() - t, up.wireBytes);
      t = performance.now();
      const [down] = await readBoardFiles(board, [dest]);
      if (!down?.result.ok || !Buffer.from(down.data).equals(data)) throw new Error('download mismatch');
      report(`download ${name}`, data.length, performance.now() - t);
    }
    console.log(`wire limit at ${BAUD} baud 8N1: ${WIRE_LIMIT} bytes/s`);
  } finally {
    await board.close();
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
