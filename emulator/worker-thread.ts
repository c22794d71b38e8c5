// The thread a virtual board's VM runs in. Starting one (a Node environment, then the worker bundle) takes about as
// long as the main thread's own loading of the board's modules, so a command that knows early that its port is
// virtual starts it first (startWorkerEarly) and the two overlap; the board hands it its rings and config in a
// message (emulator/vm/worker.ts waits for it). Light on purpose: it loads nothing of the emulator until a board
// takes a thread (then the warm-up of its VM's wasm, emulator/vm/early-tier-up.ts).
import { SHARE_ENV, Worker } from 'node:worker_threads';
import { phase } from '../protocol/timing.js';

function workerUrl(): URL {
  // Under vitest this module runs from source; the worker always runs compiled (npm test builds first).
  const here = new URL(import.meta.url);
  const entry = 'emulator/vm/worker-entry.cjs'; // the worker bundle with its code cache (emulator/vm/worker-entry.ts)
  return new URL(here.pathname.endsWith('.ts') ? `../dist/${entry}` : `../${entry}`, here); // from dist/emulator, dist/cli and dist/chunks alike
}

/**
 * The board reads the process's environment and never writes it: shared, the thread's start skips copying it.
 * Its stdio is not piped by Node, which opens this process's stdout and stderr streams as it starts the thread
 * (~2.5 ms before the thread can start): a board that takes the thread passes on what it prints (Node's warnings).
 */
const newWorker = () => new Worker(workerUrl(), { env: SHARE_ENV, stdout: true, stderr: true });

/** The thread a board takes: referenced (it keeps the process), its output passed on as it comes. */
function taking(worker: Worker): Worker {
  worker.ref();
  // (Reading them keeps the process alive: an early thread nobody took leaves them unread.)
  worker.stdout.on('data', (chunk: Buffer) => process.stdout.write(chunk));
  worker.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  return worker;
}

let early: { worker: Worker; exited: boolean } | undefined;

/** Start a worker thread now for the board this process is about to open; it waits unreferenced until taken. */
export function startWorkerEarly(): Worker {
  if (early) return early.worker;
  const started = { worker: newWorker(), exited: false };
  // Until a board takes it, nobody listens: a worker that fails to start is dropped and a new one made then.
  started.worker.on('error', () => undefined);
  started.worker.on('exit', () => void (started.exited = true));
  started.worker.unref();
  early = started;
  phase('board VM thread started');
  return started.worker;
}

/**
 * A worker thread for a board whose VM has a heap of `heapBytes`: the one started early if it is still alive, else
 * a new one. This thread then warms the VM's wasm for it (emulator/vm/early-tier-up.ts), while the boot runs there.
 */
export function takeWorkerThread(heapBytes: number): Worker {
  void import('./vm/early-tier-up.js').then((m) => m.warmUpVm(heapBytes));
  const taken = early;
  early = undefined;
  return taking(taken && !taken.exited ? taken.worker : newWorker());
}

/** Stop an early worker no board took (the process is closing its boards). */
export async function dropEarlyWorker(): Promise<void> {
  const dropped = early;
  early = undefined;
  await dropped?.worker.terminate();
}
