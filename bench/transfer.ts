// Upload and download throughput at an emulated 115200 baud (8N1: 11,520 bytes/s on the wire), for
// 100 KB of random bytes and 100 KB of Python source, as a share of that wire limit.
// Run: npm run build && node dist/bench/transfer.js   (or: npx vite-node bench/transfer.ts)
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BAUD = 115200;
const WIRE_LIMIT = BAUD / 10;
const SIZE = 100 * 1024;

/** Plausible MicroPython source: varied identifiers and numbers, so it compresses like real code. */
function pythonSource(size: number): Buffer {
  let out = '';
  for (let i = 0; out.length < size; i++) {
    out += `
class Sensor${i}:
    """Reads channel ${i % 8} and filters it."""
    def __init__(self, pin=${i % 40}, rate=${100 + (i * 37) % 900}):
        self.pin = pin
        self.rate = rate
        self.samples = []

    def read(self, adc):
        value = adc.read_u16() * ${(i % 13) + 1} // ${(i % 7) + 2}
        self.samples.append(value)
        if len(self.samples) > ${8 + (i % 24)}:
            self.samples.pop(0)
        return sum(self.samples) / len(self.samples)
`;
  }
  return Buffer.from(out.slice(0, size));
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'boardctl-bench-'));
  process.env.BOARDCTL_HOME = home;
  const { openBoard } = await import('../cli/api.js');
  const { boardCapabilities } = await import('../protocol/fs/capabilities.js');
  const { uploadFiles } = await import('../protocol/fs/upload.js');
  const { readBoardFiles } = await import('../protocol/fs/download.js');
  const board = await openBoard(`virtual:bench-transfer?baud=${BAUD}`);
  try {
    let t = performance.now();
    const caps = await boardCapabilities(board);
    console.log(`probe (once per connection): ${(performance.now() - t).toFixed(0)} ms, upload channel ${caps.upload}${caps.deflate ? ' + deflate' : ''}`);
    const report = (what: string, bytes: number, ms: number, wire?: number) => {
      const rate = bytes / (ms / 1000);
      const extra = wire !== undefined ? `, ${wire} wire bytes` : '';
      console.log(`${what.padEnd(28)} ${(ms / 1000).toFixed(2).padStart(6)} s  ${Math.round(rate).toString().padStart(6)} B/s  ${((100 * rate) / WIRE_LIMIT).toFixed(1).padStart(6)}% of wire limit${extra}`);
    };
    for (const [name, data] of [
      ['random 100 KB', randomBytes(SIZE)],
      ['python source 100 KB', pythonSource(SIZE)],
    ] as const) {
      t = performance.now();
      const [up] = await uploadFiles(board, [{ dest: '/bench.bin', data }]);
      if (!up?.ok) throw new Error(`upload failed: ${up?.error}`);
      report(`upload ${name}`, data.length, performance.now() - t, up.wireBytes);
      t = performance.now();
      const [down] = await readBoardFiles(board, ['/bench.bin']);
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
