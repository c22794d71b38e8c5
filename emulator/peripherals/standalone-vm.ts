// The hw plugin on a bare MicroPython VM in this thread, without the board's worker host: for tests and the
// bench. The host double runs pollers from the VM's clock import, as the worker does, and turns a reset
// request into a thrown ResetRequested, which unwinds the VM like the real host's stop.

import { performance } from 'node:perf_hooks';
import type { BoardProfile } from '../profiles.js';
import type { ResetKind, ResetRequest, VmHost } from '../vm/host-api.js';
import type { Transport } from '../../protocol/transport.js';
import { isPythonError, loadVm, type MicroPythonVm } from '../vm/vm-loader.js';
import { createHardwarePlugin, type HardwarePlugin, type HardwarePluginConfig } from './index.js';

export class ResetRequested extends Error {
  constructor(readonly request: ResetRequest) {
    super(`reset requested: ${request.kind}`);
  }
}

export class StandaloneHost implements VmHost {
  resetCause: ResetKind | 'power-on' = 'power-on';
  readonly resets: ResetRequest[] = [];
  private readonly pollers: (() => void)[] = [];
  private readonly t0 = performance.now();

  requestReset(req: ResetRequest): void {
    this.resets.push(req);
    throw new ResetRequested(req);
  }
  addPoller(poll: () => void): void {
    this.pollers.push(poll);
  }
  checkInterrupt(): boolean {
    return false;
  }
  ticksMs(): number {
    return Math.floor(performance.now() - this.t0);
  }
  poll(): void {
    for (const p of this.pollers) p();
  }
}

export interface StandaloneBoard {
  readonly host: StandaloneHost;
  readonly plugin: HardwarePlugin;
  /** Run source to completion; returns what it printed. A reset request rejects with ResetRequested. */
  run(src: string): string;
  /** Boot a fresh VM with the same plugin, as the worker does for a soft reset (the plugin object lives on). */
  reboot(cause: ResetKind): Promise<void>;
  /** The friendly REPL as a serial link; pollers also run while it waits for input, as in the worker. */
  openRepl(): ReplLink;
  /** Stop the REPL link's idle polling. */
  close(): void;
}

export interface ReplLink extends Pick<Transport, 'write' | 'onData'> {
  close(): Promise<void>;
}

const POLL_INTERVAL_MS = 0.25;
const IDLE_POLL_MS = 5;
const HEAP_BYTES = 1024 * 1024;

export interface StandaloneOptions extends Omit<HardwarePluginConfig, 'profile'> {
  /** How this boot came about (a new worker after a reset starts with the reset's kind). */
  resetCause?: ResetKind;
}

export async function openStandaloneBoard(profile: BoardProfile, opts: StandaloneOptions = {}): Promise<StandaloneBoard> {
  const host = new StandaloneHost();
  host.resetCause = opts.resetCause ?? 'power-on';
  const plugin = createHardwarePlugin(host, { profile, ...opts });
  let out = '';
  let mp: MicroPythonVm;
  const decoder = new TextDecoder();
  let listeners: ((chunk: Uint8Array) => void)[] = [];
  const output = (byte: number) => {
    const b = new Uint8Array([byte]);
    out += decoder.decode(b, { stream: true });
    for (const l of listeners) l(b);
  };

  let idle: NodeJS.Timeout | undefined;
  let lastPoll = 0;
  const ticks = (original: () => number) => {
    const t = performance.now();
    if (t - lastPoll >= POLL_INTERVAL_MS) {
      lastPoll = t;
      host.poll();
    }
    return original();
  };

  const boot = async () => {
    mp = await loadVm({ output, ticks }, HEAP_BYTES);
    mp.FS.mkdir('/rom');
    for (const [name, src] of Object.entries(plugin.pyModules ?? {})) mp.FS.writeFile(`/rom/${name}.py`, src);
    for (const [name, mod] of Object.entries(plugin.jsModules ?? {})) mp.registerJsModule(name, mod);
    mp.runPython(`import sys\nsys.path.insert(0, '/rom')\n${plugin.bootSource ?? ''}`);
  };
  await boot();

  return {
    host,
    plugin,
    run(src: string): string {
      out = '';
      try {
        mp.runPython(src);
      } catch (e) {
        if (isPythonError(e)) throw new Error(`${out}${e.message}`);
        throw e;
      }
      return out;
    },
    async reboot(cause: ResetKind) {
      host.resetCause = cause;
      await boot();
    },
    openRepl(): ReplLink {
      clearInterval(idle);
      idle = setInterval(() => host.poll(), IDLE_POLL_MS);
      mp.replInit();
      return {
        async write(data: Uint8Array) {
          for (const c of data) mp.replProcessChar(c);
        },
        onData(listener) {
          listeners.push(listener);
          return () => { listeners = listeners.filter((l) => l !== listener); };
        },
        async close() {
          clearInterval(idle);
          listeners = [];
        },
      };
    },
    close() {
      clearInterval(idle);
    },
  };
}
