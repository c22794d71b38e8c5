// `npm run bench`: every benchmark in turn, each in its own process so one's workers and timers do not skew
// the next.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHES = [
  'cli', 'board', 'fs', 'transfer', 'qemu', 'faults', 'flash', 'peripherals', 'memory', 'links', 'asyncio', 'fleet',
  'network', 'devloop', 'perfbench',
];

let failed = 0;
for (const name of BENCHES) {
  console.log(`\n== ${name} ==`);
  const script = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  const r = spawnSync(process.execPath, [script], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
