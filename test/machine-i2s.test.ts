// machine.I2S (esp32 and rp2 ports) on the real VM: paced at its rate on the board's clock, the played samples on
// the host side, RX from a host source or silence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { I2sPort } from '../emulator/peripherals/i2s.js';
import { PY_ERRORS } from './helpers/py-errors.js';
import { TestBoard } from './helpers/test-board.js';

let esp: TestBoard;
let pico: TestBoard;
beforeAll(async () => {
  [esp, pico] = await Promise.all([TestBoard.open(), TestBoard.open({ profile: 'rp2-pico', name: 'pico' })]);
});
afterAll(async () => {
  await Promise.all([esp?.close(), pico?.close()]);
});

async function played(b: TestBoard, id: number): Promise<string> {
  const ports = (await b.control('get', { what: 'i2s' })) as { id: number; played: string }[];
  return ports.find((p) => p.id === id)?.played ?? '';
}


describe('machine.I2S on esp32', () => {
  it('plays a blocking write at its rate: the call waits until all but a buffer has played, the host gets every byte', async () => {
    const before = await played(esp, 0);
    // 16-bit stereo at 8 kHz: 32000 bytes/s. 16000 bytes are 500 ms; the ESP32's ibuf of 4096 holds four DMA
    // buffers of 256 frames (4096 bytes, 128 ms), so write() returns after at least 372 ms.
    const out = await esp.run(`
from machine import I2S, Pin
import time
tx = I2S(0, sck=Pin(14), ws=Pin(13), sd=Pin(12), mode=I2S.TX, bits=16, format=I2S.STEREO, rate=8000, ibuf=4096)
buf = bytes((i * 7) & 0xff for i in range(16000))
t = time.ticks_us()
n = tx.write(buf)
print(n, time.ticks_diff(time.ticks_us(), t) // 1000)
t = time.ticks_us()
n = tx.write(buf[:4000])
print(n, time.ticks_diff(time.ticks_us(), t) // 1000)
`);
    const [first, second] = out.trim().split('\n').map((l) => l.split(' ').map(Number));
    expect(first![0]).toBe(16000);
    expect(first![1]).toBeGreaterThanOrEqual(370);
    // The second write waits for the first's last buffer to play too: 4000 bytes (125 ms) plus what was queued.
    expect(second![0]).toBe(4000);
    expect(second![1]).toBeGreaterThanOrEqual(120);
    const bytes = Buffer.from(Array.from({ length: 16000 }, (_, i) => (i * 7) & 0xff));
    expect((await played(esp, 0)).slice(before.length)).toBe(Buffer.concat([bytes, bytes.subarray(0, 4000)]).toString('hex'));
  });

  it('reads silence of the right length at its rate, then what the host queued', async () => {
    const out = await esp.run(`
from machine import I2S, Pin
import time
from array import array
rx = I2S(1, sck=Pin(26), ws=Pin(25), sd=Pin(33), mode=I2S.RX, bits=32, format=I2S.MONO, rate=4000, ibuf=8192)
buf = bytearray(1600)
t = time.ticks_us()
print(rx.readinto(buf), buf == bytearray(1600), time.ticks_diff(time.ticks_us(), t) // 1000)
samples = array('i', [0] * 4)
print(rx.readinto(samples))
`);
    const [first, second] = out.trim().split('\n');
    const [n, silent, ms] = first!.split(' ');
    expect([n, silent]).toEqual(['1600', 'True']);
    expect(Number(ms)).toBeGreaterThanOrEqual(95); // 400 samples of 4 bytes at 4 kHz: 100 ms
    expect(second).toBe('16');
    await esp.control('set', { what: 'i2s', id: 1, samples: [1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 7] });
    expect(await esp.run('print(rx.readinto(samples), samples)')).toBe("16 array('i', [1, -1, 7, 0])\n");
  });

  it('returns at once with an irq handler set and calls it, in the scheduler, when the buffer is done', async () => {
    const out = await esp.run(`
from machine import I2S, Pin
import time
tx = I2S(0, sck=Pin(14), ws=Pin(13), sd=Pin(12), mode=I2S.TX, bits=16, format=I2S.MONO, rate=8000, ibuf=1024)
rx = I2S(1, sck=Pin(26), ws=Pin(25), sd=Pin(33), mode=I2S.RX, bits=16, format=I2S.MONO, rate=8000, ibuf=1024)
done = []
tx.irq(lambda i2s: done.append(('tx', i2s is tx, time.ticks_diff(time.ticks_us(), t) // 1000)))
rx.irq(lambda i2s: done.append(('rx', i2s is rx, time.ticks_diff(time.ticks_us(), t) // 1000, bytes(buf[:2]))))
buf = bytearray(b'\\xaa' * 1600)
t = time.ticks_us()
print(tx.write(bytes(8000)), rx.readinto(buf), time.ticks_diff(time.ticks_us(), t) // 1000, done)
time.sleep_ms(600)
for call in done:
    print(*call)
`);
    const [returned, ...called] = out.trim().split('\n');
    const [written, read, ms] = returned!.split(' ');
    expect([written, read]).toEqual(['8000', '1600']);
    expect(Number(ms)).toBeLessThan(400); // a blocking write would take 437 ms (8000 bytes at 16000/s, less 1024 buffered)
    expect(returned!.endsWith('[]')).toBe(true);
    // RX: 800 samples at 8 kHz, 100 ms, its silence in the buffer by then; TX: at the write's end, 437 ms.
    const calls = called.map((l) => l.split(' '));
    expect(calls.map((c) => [c[0], c[1]])).toEqual([['rx', 'True'], ['tx', 'True']]);
    expect(calls[0]![3]).toBe("b'\\x00\\x00'"); // the buffer holds the silence read once the handler runs
    expect(Number(calls[0]![2])).toBeGreaterThanOrEqual(95);
    expect(Number(calls[1]![2])).toBeGreaterThanOrEqual(430);
  });

  it('works as an asyncio stream: StreamWriter.drain plays it all at the rate, StreamReader.readinto reads', async () => {
    const before = await played(esp, 0);
    const out = await esp.run(`
import asyncio, time
from machine import I2S, Pin
tx = I2S(0, sck=Pin(14), ws=Pin(13), sd=Pin(12), mode=I2S.TX, bits=16, format=I2S.MONO, rate=16000, ibuf=2048)
rx = I2S(1, sck=Pin(26), ws=Pin(25), sd=Pin(33), mode=I2S.RX, bits=16, format=I2S.STEREO, rate=16000, ibuf=2048)
async def main():
    w = asyncio.StreamWriter(tx)
    t = time.ticks_us()
    for i in range(4):
        w.write(bytes([i]) * 4000)
        await w.drain()
    print(time.ticks_diff(time.ticks_us(), t) // 1000)
    buf = bytearray(256)
    print(await asyncio.StreamReader(rx).readinto(buf) > 0, buf == bytearray(256))
asyncio.run(main())
`);
    const [ms, read] = out.trim().split('\n');
    // 16000 bytes at 32000 bytes/s: 500 ms, less the 2048 bytes (64 ms) the buffer still holds.
    expect(Number(ms)).toBeGreaterThanOrEqual(430);
    expect(read).toBe('True True');
    expect((await played(esp, 0)).slice(before.length)).toBe([0, 1, 2, 3].map((i) => Buffer.alloc(4000, i).toString('hex')).join(''));
  });

  it("gives the port's errors for bad arguments, ids and directions; prints as the port; shift() scales samples", async () => {
    const out = await esp.run(`${PY_ERRORS}
from machine import I2S, Pin
ok = dict(sck=Pin(14), ws=Pin(13), sd=Pin(12), mode=I2S.TX, bits=16, format=I2S.MONO, rate=8000, ibuf=2048)
def make(id=0, **kw):
    args = dict(ok)
    args.update(kw)
    return I2S(id, **args)
tx = make()
rx = make(1, mode=I2S.RX)
errors(lambda: make(2), lambda: make(-1), lambda: make(mode=0), lambda: make(bits=24), lambda: make(format=2),
       lambda: make(sck=14), lambda: make(mck=Pin(15)), lambda: I2S(0, sck=Pin(14)), lambda: make(rate='x'),
       lambda: tx.readinto(bytearray(4)), lambda: rx.write(b'ab'), lambda: rx.readinto(bytearray(3)), lambda: tx.irq(1),
       lambda: I2S.shift(buf=bytearray(4), bits=8, shift=1))
print(I2S.TX, I2S.RX, I2S.MONO, I2S.STEREO, tx.write(b''), tx.irq(None))
print(repr(tx))
s = bytearray(b'\\x01\\x00\\xff\\xff\\x00\\x40\\x10\\x00\\x00\\x00')
I2S.shift(buf=memoryview(s)[:6], bits=16, shift=1)
print(s.hex())
I2S.shift(buf=s, bits=32, shift=-4)
print(s.hex())
`);
    expect(out).toBe(
      'ValueError invalid id\nValueError invalid id\nValueError invalid mode\nValueError invalid bits\nValueError invalid format\n' +
        'ValueError expecting a pin\n' +
        "TypeError unexpected keyword argument 'mck'\nTypeError 'ws' argument required\nTypeError can't convert str to int\n" +
        'OSError [Errno 1] EPERM\nOSError [Errno 1] EPERM\nOSError [Errno 22] EINVAL\nValueError invalid callback\nValueError invalid bits\n' +
        '2 1 0 1 0 None\n' +
        'I2S(id=0,\nsck=14,\nws=13,\nsd=12,\nmode=2,\nbits=16, format=0,\nrate=8000, ibuf=2048)\n' +
        '0200feff008010000000\n' + '00e0ffff000801000000\n',
    );
  });
});

describe('machine.I2S ids per chip and on rp2', () => {
  it('the C3 has one I2S, the S3 two', async () => {
    const probe = `${PY_ERRORS}
from machine import I2S, Pin
errors(*(lambda i=i: I2S(i, sck=Pin(4), ws=Pin(5), sd=Pin(6), mode=I2S.TX, bits=32, format=I2S.STEREO, rate=44100, ibuf=8192) for i in range(3)))
`;
    for (const [profile, want] of [['esp32c3', 'ok\nValueError invalid id\nValueError invalid id\n'], ['esp32s3', 'ok\nok\nValueError invalid id\n']] as const) {
      const b = await TestBoard.open({ profile, name: profile });
      try {
        expect(await b.run(probe), profile).toBe(want);
      } finally {
        await b.close();
      }
    }
  });

  it('rp2 has I2S 0 and 1 on PIO, with ws = sck + 1, ibuf > 0, its own constants, any pin id', async () => {
    const out = await pico.run(`${PY_ERRORS}
from machine import I2S, Pin
import time
def make(id=0, **kw):
    args = dict(sck=Pin(16), ws=Pin(17), sd=Pin(18), mode=I2S.TX, bits=32, format=I2S.MONO, rate=8000, ibuf=4000)
    args.update(kw)
    return I2S(id, **args)
errors(lambda: make(1, sck=2, ws=3), lambda: make(2), lambda: make(ws=Pin(18)), lambda: make(ibuf=0), lambda: make(mode=2),
       lambda: make(mck=Pin(20)))
print(I2S.RX, I2S.TX)
tx = make()
t = time.ticks_us()
print(tx.write(bytes(range(200)) * 60), time.ticks_diff(time.ticks_us(), t) // 1000)
`);
    const lines = out.trim().split('\n');
    expect(lines.slice(0, 7)).toEqual([
      'ok', 'ValueError invalid id', 'ValueError invalid ws (must be sck+1)', 'ValueError invalid ibuf', 'ValueError invalid mode',
      "TypeError unexpected keyword argument 'mck'", '0 1',
    ]);
    // 12000 bytes of 32-bit mono at 8 kHz (32000 bytes/s): 375 ms, less the ring buffer's 4000 bytes (125 ms).
    const [n, ms] = lines[7]!.split(' ').map(Number);
    expect(n).toBe(12000);
    expect(ms).toBeGreaterThanOrEqual(245);
    expect(await played(pico, 0)).toBe(Buffer.concat(Array.from({ length: 60 }, () => Buffer.from(Array.from({ length: 200 }, (_, i) => i)))).toString('hex'));
  });
});

describe('the host side of an I2S id', () => {
  it('keeps the newest 16 MiB played and counts what it dropped; RX reads the source, then silence', () => {
    const port = new I2sPort();
    const mib = Array.from({ length: 1 << 20 }, (_, i) => i & 0xff);
    for (let i = 0; i < 17; i++) port.play(mib);
    port.play([1, 2]);
    expect(port.dropped).toBe(2 << 20);
    expect(port.playedHex().length).toBe(2 * ((16 << 20) - (1 << 20) + 2));
    expect(port.playedHex().endsWith('fe' + 'ff0102')).toBe(true);
    port.source.push(9, 8);
    expect(port.record(4)).toEqual([9, 8, 0, 0]);
  });
});
