// What a board's worker thread runs (dist/emulator/vm/worker-entry.cjs, CommonJS): the worker bundle worker.cjs
// with its code cache ($BOARDCTL_HOME/cache/worker-NODEVERSION-ARCH.code), saved after the board's first 'ready'.
// Most of a worker's CPU to 'ready' is V8 compiling the boot's functions; the cache takes that off each boot.
import { fileURLToPath } from 'node:url';
import { cacheFile, runBundle } from '../../protocol/code-cache.js';
import { phase } from '../../protocol/timing.js';

// From 'board VM thread started' to here is Node's own start of a worker (an environment, its core modules).
phase('board: thread running');

const { exports, save } = runBundle(fileURLToPath(new URL('./worker.cjs', import.meta.url)), cacheFile('worker'), 'board', 'board: code cache');
(exports as typeof import('./worker.js')).whenReady(save);
