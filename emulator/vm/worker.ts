// The code of a board's worker thread: one MicroPython VM, fed from the link through shared rings. Bundled as
// CommonJS (dist/emulator/vm/worker.cjs) and run by worker-entry.ts with a code cache, so no top-level await.
import { parentPort, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { BoardRuntime } from './board-runtime.js';
import { ReplFront } from './repl-front.js';
import { loadPlugins } from './plugins.js';
import { LIKELY_SHAPE, prepareVm } from './early-vm.js';
import { STATUS_FILES_OPEN, STATUS_FLASH_UNSYNCED, STATUS_SWEEP, type WorkerCommand, type WorkerEvent, type WorkerInit } from './shared-state.js';
import type { NetChannel } from '../net/client.js';
import { phase } from '../../protocol/timing.js';

phase('board: worker modules loaded');

// The board's rings, config and ports come in the first message. The thread may start before the board is known:
// while that message is not there, it loads the VM most boards need (the board takes it if it fits: early-vm.ts).
type Init = WorkerInit & { control: MessagePort; net?: NetChannel };
const queued = receiveMessageOnPort(parentPort!)?.message as Init | undefined;
if (!queued) prepareVm(LIKELY_SHAPE);

let afterReady = () => {};
/**
 * Run `hook` on this thread right after the board's 'ready' (worker-entry.ts saves the code cache then). Set in
 * time: the bundle's caller sets it as the bundle returns, and the boot awaits the VM's load before 'ready'.
 */
export function whenReady(hook: () => void): void {
  afterReady = hook;
}

void main();

async function main(): Promise<void> {
  const init = queued ?? (await new Promise<Init>((resolve) => parentPort!.once('message', resolve)));
  phase('board: config received');
  const post = (e: WorkerEvent) => parentPort!.postMessage(e);
  const rt = new BoardRuntime(init.config, init.input, init.output, init.status, () => post({ type: 'output' }));
  let halted = false;

  const flashUnsynced = new Int32Array(init.status, STATUS_FLASH_UNSYNCED * 4, 1);
  const sweep = new Int32Array(init.status, STATUS_SWEEP * 4, 1);
  const filesOpen = new Int32Array(init.status, STATUS_FILES_OPEN * 4, 1);
  const { all: plugins, hardware } = loadPlugins(rt, init.config, flashUnsynced, filesOpen, init.net);
  for (const p of plugins) rt.addPlugin(p);

  // Control requests (sim set/get, the TUI) are polled, so they are served even while Python code runs.
  rt.addPoller(() => {
    for (let m = receiveMessageOnPort(init.control); m; m = receiveMessageOnPort(init.control)) {
      const cmd = m.message as WorkerCommand;
      const plugin = plugins.find((p) => p.name === cmd.plugin);
      try {
        if (!plugin?.control) throw new Error(`the board has no '${cmd.plugin}' part`);
        post({ type: 'control-result', id: cmd.id, result: plugin.control(cmd.op, cmd.args) });
      } catch (err) {
        post({ type: 'control-result', id: cmd.id, error: (err as Error).message });
      }
    }
  });

  const front = new ReplFront(rt, (req) => {
    halted = true;
    post({ type: 'reset', kind: req.kind as 'hard', sleepMs: req.sleepMs, persisted: hardware.snapshot() });
  });
  rt.watchdog = () => {
    halted = true;
    post({ type: 'reset', kind: 'wdt', persisted: hardware.snapshot() });
  };

  for (const line of init.config.bootLines) rt.emit(line + '\r\n');
  await front.boot();
  rt.flush();
  post({ type: 'ready' });
  afterReady();

  // The worker's thread belongs to the VM: it sleeps in Atomics.wait between bytes, so nothing here may rely on
  // its event loop (control requests are polled, output is announced by message).
  while (!halted) {
    Atomics.store(filesOpen, 0, rt.openFiles());
    rt.waitInput(20);
    rt.runPollers();
    if (Atomics.load(sweep, 0) === 1) {
      rt.sweep();
      Atomics.store(sweep, 0, 0);
      post({ type: 'swept' });
    }
    for (let b = rt.takeInput(); b !== undefined && !halted; b = rt.takeInput()) {
      try {
        const resetting = front.feed(b);
        if (resetting) await resetting;
      } catch (err) {
        await front.recover(err);
      }
    }
    rt.flush();
  }
}
