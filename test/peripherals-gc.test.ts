// Timer callbacks run nested inside the VM's clock hook; the heap must survive collections on both sides.
// On the real board: worker, link, hw plugin.

import { expect, it } from 'vitest';
import { TestBoard } from './helpers/test-board.js';

it('keeps the heap consistent while timer callbacks allocate during a busy main loop', async () => {
  const b = await TestBoard.open();
  try {
    expect(await b.run(`
from machine import Timer
import time, gc
made = []
def cb(t):
    made.append([str(i) * 3 for i in range(20)])
    if len(made) > 50:
        made.pop(0)
Timer(0, period=1, callback=cb)
acc = {}
for i in range(300):
    acc[i % 97] = bytearray(300) + b'x'
    time.sleep_ms(1)
    if i % 50 == 0:
        gc.collect()
print(len(made) > 10, all(len(m) == 20 and m[19] == '191919' for m in made), len(acc))
`)).toBe('True True 97\n');
  } finally {
    await b.close();
  }
});
