// The virtual board's output path (issue 20, hot paths): the VM's writes reach the board a write at a time, not a
// byte at a time.
import { describe, expect, it } from 'vitest';
import { loadVm } from '../emulator/vm/vm-loader.js';

describe('the VM output hooks', () => {
  it('hand over each write of the VM to stdout or stderr as one piece', async () => {
    const pieces: string[] = [];
    let writes = 0;
    const vm = await loadVm(
      {
        output: (bytes) => pieces.push(Buffer.from(bytes).toString('utf8')),
        wrote: () => writes++,
        ticks: (original) => original(),
        wallClock: () => Date.now(),
      },
      256 * 1024,
    );
    vm.runPython("import sys\nprint('F', 12, 'é', end='!\\n')\nsys.stdout.write('x' * 5000)\nsys.stderr.write('to stderr')");
    // print writes each argument and each separator on its own, as on every port.
    expect(pieces).toEqual(['F', ' ', '12', ' ', 'é', '!\n', 'x'.repeat(5000), 'to stderr']);
    expect(writes).toBe(pieces.length);
  });
});
