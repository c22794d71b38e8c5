// The edit-run loop's speed on the virtual board: mount read throughput for a 1 MB file at an emulated 115200
// baud and at full speed (each against the link's own limit: 11,520 B/s on a 115200 wire, and at full speed
// the same link streaming 1 MB into a bare stdin reader), import time of a 20-module package from a mount
// and from the board's flash, and watch's save-to-output latency against a bare exec of the same program.
// Run: npm run build && node dist/bench/devloop.js
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BAUD = 115200;
const MB = 1 << 20;
const MODULES = 20;

const ms = (t: number) => performance.now() - t;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'boardctl-bench-devloop-'));
  process.env.BOARDCTL_HOME = join(work, 'home');
  const tree = join(work, 'project');
  mkdirSync(join(tree, 'pkg'), { recursive: true });
  writeFileSync(join(tree, 'big.bin'), randomBytes(MB));
  writeFileSync(join(tree, 'pkg', '__init__.py'), '');
  for (let i = 0; i < MODULES; i++) {
    writeFileSync(join(tree, 'pkg', `m${i}.py`), `# module ${i}\n${Array.from({ length: 30 }, (_, j) => `def f${j}(x):\n    return x * ${i + j}\n`).join('')}`);
  }
  const { createBoard } = await import('../emulator/board-store.js');
  const { openTransport } = await import('../cli/api.js');
  const { HostTree } = await import('../protocol/mount/host-tree.js');
  const { MountLink } = await import('../protocol/mount/mount-link.js');
  const { MountedBoard } = await import('../protocol/mount/mounted-board.js');
  const { syncFolder } = await import('../protocol/fs/sync.js');
  const { watchLoop } = await import('../cli/watch-loop.js');
  createBoard('bench-devloop');

  const readMb = "b=bytearray(8192);n=0\nwith open('big.bin','rb') as f:\n while True:\n  k=f.readinto(b)\n  if not k:break\n  n+=k\nprint(n)";
  const importAll = (dir: string) =>
    `import sys,os\nos.chdir(${JSON.stringify(dir)})\nfor k in [k for k in sys.modules if k.startswith('pkg')]:del sys.modules[k]\n${Array.from({ length: MODULES }, (_, i) => `import pkg.m${i}`).join('\n')}`;
  /** Host-side time of one exec (the program travels the same link either way). */
  const timed = async (board: { exec(code: string): Promise<unknown> }, code: string) => {
    const t = performance.now();
    await board.exec(code);
    return Math.round(ms(t));
  };

  for (const baud of [BAUD, 0]) {
    const port = baud ? `virtual:bench-devloop?baud=${baud}` : 'virtual:bench-devloop';
    const board = new MountedBoard(new MountLink(await openTransport(port), new HostTree(tree)));
    try {
      await board.ensureMounted();
      let limit: number;
      if (baud) limit = baud / 10;
      else {
        // The link's own limit: 1 MB into a program that only reads its stdin.
        const t = performance.now();
        const run = await board.start('import sys\nb=bytearray(8192);n=0\nwhile n<1048576:n+=sys.stdin.buffer.readinto(b)\nprint(n)');
        for (let i = 0; i < MB; i += 8192) await run.write(new Uint8Array(8192));
        await run.done;
        limit = MB / (ms(t) / 1000);
      }
      const t = performance.now();
      const out = await board.exec(readMb);
      const rate = MB / (ms(t) / 1000);
      if (out.stdout.trim() !== String(MB)) throw new Error(`read ${out.stdout}`);
      const label = baud ? `at ${baud} baud` : 'at full speed';
      console.log(`mount read 1 MB ${label}: ${(rate / 1024).toFixed(1)} KiB/s = ${(rate / limit).toFixed(2)} x the link limit (${(limit / 1024).toFixed(1)} KiB/s)`);

      await syncFolder(board, tree, '/flashcopy', { exclude: ['big.bin'] });
      const fromMount = await timed(board, importAll('/remote'));
      const fromFlash = await timed(board, importAll('/flashcopy'));
      console.log(`import of a ${MODULES}-module package ${label}: mount ${fromMount} ms, flash ${fromFlash} ms = ${(fromMount / Math.max(1, fromFlash)).toFixed(1)} x flash`);
    } finally {
      await board.close();
    }
  }

  // Watch: save to first output, against the same program run by a bare exec.
  const project = join(work, 'watched');
  mkdirSync(project);
  writeFileSync(join(project, 'main.py'), "print('run 0')\n");
  const board = new MountedBoard(new MountLink(await openTransport('virtual:bench-devloop'), new HostTree(project)));
  const abort = new AbortController();
  const samples: number[] = [];
  let seen: ((text: string) => void) | undefined;
  const loop = watchLoop(board, {
    local: project,
    remote: '/watched',
    entry: { file: 'main.py' },
    signal: abort.signal,
    onEvent: (e) => e.event === 'output' && seen?.(e.data),
  });
  const shown = (text: string) => new Promise<void>((resolve) => (seen = (d) => d.includes(text) && resolve()));
  await shown('run 0');
  for (let i = 1; i <= 5; i++) {
    await new Promise((r) => setTimeout(r, 300));
    const wait = shown(`run ${i}`);
    const t = performance.now();
    writeFileSync(join(project, 'main.py'), `print('run ${i}')\n`);
    await wait;
    samples.push(ms(t));
  }
  abort.abort();
  await loop;
  const bare: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await board.exec("print('run')");
    bare.push(ms(t));
  }
  await board.close();
  console.log(`watch save-to-output: median ${median(samples).toFixed(0)} ms (debounce 100 ms) = ${(median(samples) / median(bare)).toFixed(1)} x a bare exec (${median(bare).toFixed(0)} ms)`);
  rmSync(work, { recursive: true, force: true });
}

await main();
process.exit(0);
