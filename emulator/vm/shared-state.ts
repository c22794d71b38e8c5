// Small shared counters between a board's worker and its owner on the main thread.

import type { ChipReset, WakeCause } from './host-api.js';

export const STATUS_BUSY = 0; // 1 while Python code runs (the VM is inside a call)
export const STATUS_HEARTBEAT = 1; // bumped by the worker whenever it gets control
export const STATUS_OUT_LIMIT = 2; // most output bytes the worker may have waiting (0: the whole ring)
/**
 * 1 while the owner is bound to look at the output ring again (the worker's 'output' message is on its way, or
 * board.ts's poll timer is pending), else 0. The protocol, free of lost wake-ups:
 * - the worker (board-runtime.ts writeOut), after each write into the ring, sets this from 0 to 1
 *   (compareExchange) and posts a message if and only if it did;
 * - the owner (board.ts watchOutput) clears it only in a look that finds no byte written since the look before it
 *   began (the ring's write count: it comes back to a value only after 2^32 bytes), then reads the count once
 *   more. Atomics are sequentially consistent, so either that read sees the worker's write (the owner sets the
 *   flag back and looks on) or the worker's compareExchange sees the 0 (and posts);
 * - bytes a look leaves in the ring because the link's queue is full are taken when the link drains (UartPacer's
 *   onDrain), so the owner never waits for a message that a worker blocked on a full ring cannot send.
 */
export const STATUS_OUT_WAKE = 3;
/**
 * 1 from just before the worker's flash store writes until that write is fsynced (flash-store.ts): the owner,
 * having stopped the worker, fsyncs the image only then (a command that wrote nothing ends without an fsync).
 */
export const STATUS_FLASH_UNSYNCED = 4;
/**
 * 1 from the owner, closing a board whose VM idles (board.ts close), until the worker has run the finalisers'
 * sweep (files close and commit) and posted 'swept'.
 */
export const STATUS_SWEEP = 5;
/**
 * Whether the VM may have files open (what a sweep would close): 1 from any open, and the worker's count of them
 * each time it goes idle. close() asks for no sweep while it is 0, so its usual end waits for no thread.
 */
export const STATUS_FILES_OPEN = 6;
export const STATUS_INTS = 7;

export interface WorkerConfig {
  profile: string;
  boardName: string;
  flashPath: string;
  /** ESP: the SD card's image (machine.SDCard), which may be absent (an empty slot). */
  sdCardPath?: string;
  /** The chip's size (board.json): a shorter image file (truncated) is padded with erased flash. */
  flashSize: number;
  fsOffset: number;
  fsSize: number;
  blockSize: number;
  /** Skip main.py (after a stuck VM had to be restarted). */
  safeMode: boolean;
  resetCause: ChipReset;
  /** What ended the deep sleep this boot follows (resetCause 'deepsleep'). */
  wakeCause?: WakeCause;
  /** Lines printed before MicroPython starts (ROM/bootloader log). */
  bootLines: string[];
  heapSize: number;
  /** Where the VM's boot image is kept and looked for (boot-image.ts); without it every boot installs the runtime. */
  bootImageDir?: string;
  /** machine.unique_id() as hex (board.json), so every board of a fleet has its own. */
  uniqueId?: string;
  /** board.json's MAC: machine.mem32 reads its eFuse words. */
  mac?: string;
  parts?: unknown[];
  /** Hardware state (RTC, NVS, sensors) carried across a reset that restarts the worker. */
  persisted?: unknown;
  /** ESP: the banner of the app the bootloader started (it may be an OTA update); the profile's otherwise. */
  banner?: string;
  /** ESP: flash offset of the app partition the bootloader started (esp32.Partition.RUNNING). */
  runningApp?: number;
}

export interface WorkerInit {
  input: SharedArrayBuffer;
  output: SharedArrayBuffer;
  status: SharedArrayBuffer;
  config: WorkerConfig;
}

/** Messages from the worker to its owner. */
export type WorkerEvent =
  | { type: 'ready' }
  | { type: 'swept' }
  | { type: 'output' }
  | { type: 'reset'; kind: 'hard' | 'wdt' | 'deepsleep' | 'bootloader'; sleepMs?: number; persisted?: unknown }
  | { type: 'control-result'; id: number; result?: unknown; error?: string };

/** Messages from the owner to the worker. */
export type WorkerCommand = { type: 'control'; id: number; plugin: string; op: string; args?: unknown };
