// Issue 16 items 3 and 6: each firmware module the virtual board adds, exercised with tutorial-style code, and
// README's difference table kept true: every module it lists as present imports on the board of that profile,
// every absent one fails with ImportError (with its hint where the table gives one).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTERACTIVE_MODULES } from '../emulator/port-modules.js';
import { TestBoard } from './helpers/test-board.js';

let esp: TestBoard;
let pico: TestBoard;
beforeAll(async () => {
  [esp, pico] = await Promise.all([TestBoard.open(), TestBoard.open({ profile: 'rp2-pico', name: 'pico' })]);
});
afterAll(async () => {
  await Promise.all([esp?.close(), pico?.close()]);
});

describe('cryptolib', () => {
  it('matches the FIPS-197 and SP 800-38A test vectors in ECB, CBC and CTR, and round-trips', async () => {
    const out = await esp.run(`
import cryptolib
from binascii import hexlify, unhexlify as h
pt = h('00112233445566778899aabbccddeeff')
for key in ('000102030405060708090a0b0c0d0e0f', '000102030405060708090a0b0c0d0e0f1011121314151617',
            '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'):
    ct = cryptolib.aes(h(key), cryptolib.MODE_ECB).encrypt(pt)
    print(hexlify(ct).decode(), cryptolib.aes(h(key), 1).decrypt(ct) == pt)
k = h('2b7e151628aed2a6abf7158809cf4f3c')
p = h('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51')
ct = cryptolib.aes(k, cryptolib.MODE_CBC, h('000102030405060708090a0b0c0d0e0f')).encrypt(p)
print(hexlify(ct).decode())
print(cryptolib.aes(k, 2, h('000102030405060708090a0b0c0d0e0f')).decrypt(ct) == p)
ctr = cryptolib.aes(k, cryptolib.MODE_CTR, h('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff'))
ct = ctr.encrypt(p[:5]) + ctr.encrypt(p[5:])
print(hexlify(ct).decode())
try:
    cryptolib.aes(b'short', 1)
except ValueError:
    print('ValueError')
`);
    expect(out).toBe(
      '69c4e0d86a7b0430d8cdb78070b4c55a True\ndda97ca4864cdfe06eaf70a0ec0d7191 True\n8ea2b7ca516745bfeafc49904b496089 True\n' +
        '7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2\nTrue\n' +
        '874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff\nValueError\n',
    );
  });
});

describe('framebuf on the SSD1306', () => {
  it('draws text and shapes with framebuf and shows them on the OLED part', async () => {
    // A small SSD1306 driver as tutorials copy one onto the board (the firmware has none).
    const drawn = await esp.run(`
import framebuf
from machine import I2C, Pin
i2c = I2C(0, scl=Pin(22), sda=Pin(21))
for c in (0xae, 0x20, 0x00, 0x40, 0xa1, 0xa8, 63, 0xc8, 0xd3, 0, 0xda, 0x12, 0x81, 0xff, 0x8d, 0x14, 0xaf):
    i2c.writeto(0x3c, bytes((0x80, c)))
buf = bytearray(128 * 64 // 8)
fb = framebuf.FrameBuffer(buf, 128, 64, framebuf.MONO_VLSB)
fb.fill(0)
fb.text('Hi', 0, 0, 1)
fb.rect(100, 40, 20, 10, 1)
fb.fill_rect(0, 60, 128, 4, 1)
for c in (0x21, 0, 127, 0x22, 0, 7):
    i2c.writeto(0x3c, bytes((0x80, c)))
i2c.writeto(0x3c, b'\\x40' + buf)
print(buf.hex())
`);
    const [oled] = (await esp.control('get', { what: 'oled' })) as { on: boolean; rows: string[]; framebuffer: Uint8Array }[];
    expect(oled!.on).toBe(true);
    // The panel shows what framebuf drew, byte for byte: text in the top rows, the rectangles below.
    expect(Buffer.from(oled!.framebuffer).toString('hex')).toBe(drawn.trim());
    expect(oled!.rows.slice(0, 8).join('').includes('#')).toBe(true);
    expect(oled!.rows[40]!.slice(100, 120)).toBe('#'.repeat(20));
    expect(oled!.rows[45]!.slice(99, 121)).toBe('.#' + '.'.repeat(18) + '#.');
    expect(oled!.rows[63]).toBe('#'.repeat(128));
  });
});

describe('upysh', () => {
  it('lists, shows and copies files from the REPL', async () => {
    const out = await esp.run(
      "with open('/notes.txt', 'w') as f:\n    f.write('one\\ntwo\\nthree\\n')\nfrom upysh import *\n" +
        "cp('/notes.txt', '/copy.txt')\nhead('/copy.txt', 2)\nls()\nrm('/copy.txt')",
    );
    expect(out).toContain('upysh is intended to be imported using:');
    expect(out).toContain('one\ntwo\n');
    expect(out).toMatch(/ +\d+ boot\.py\n +14 copy\.txt\n +14 notes\.txt\n/);
  });
});

describe("u-names of the firmware's extensible C modules", () => {
  it('import umachine, usocket and ucryptolib as the modules themselves; a file of that name wins; others fail', async () => {
    const tryImport = "def t(m):\n    try:\n        return __import__(m).__name__\n    except ImportError as e:\n        return str(e)\n";
    const out = await esp.run(
      tryImport +
        "import machine, socket\nimport umachine, usocket\nfrom ucryptolib import aes\nprint(umachine is machine, usocket is socket, aes)\n" +
        "print([t(m) for m in ('ubluetooth', 'unetwork', 'ussl', 'utls')])\n" +
        "with open('/ucryptolib.py', 'w') as f:\n    f.write('OWN = 1\\n')\nimport ucryptolib\nprint(ucryptolib.OWN)\nimport os\nos.remove('/ucryptolib.py')",
    );
    expect(out).toBe(
      "True True <class 'aes'>\n" +
        "[\"no module named 'bluetooth' (the virtual board has no Bluetooth radio)\", \"no module named 'unetwork'\", \"no module named 'ussl'\", \"no module named 'utls'\"]\n" +
        '1\n',
    );
    expect(await pico.run(tryImport + "print([t(m) for m in ('umachine', 'usocket', 'ubluetooth')])")).toBe(
      "['machine', \"no module named 'usocket'\", \"no module named 'ubluetooth'\"]\n",
    );
  });
});

/** The module rows of README's difference table: name, and what the virtual board does per profile. */
function tableRows(): { name: string; esp32: string; rp2: string }[] {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Modules'), readme.indexOf('### Behaviour'));
  return section.split('\n').flatMap((line) => {
    const cells = line.split('|').map((c) => c.trim());
    const m = /^`([\w.]+)`$/.exec(cells[1] ?? '');
    return m ? [{ name: m[1]!, esp32: cells[3]!, rp2: cells[5]! }] : [];
  });
}

describe("README's difference table", () => {
  const rows = tableRows();
  it('lists the modules', () => {
    expect(rows.length).toBeGreaterThan(40);
  });

  it.each([['esp32', 'esp32'], ['rp2', 'rp2']] as const)('holds on the %s board', async (_name, col) => {
    const board = col === 'esp32' ? esp : pico;
    // A dialog run by its import (webrepl_setup, as on the firmware) is not imported here: test/webrepl.test.ts runs it.
    const present = rows.filter((r) => !/^(absent|—)/.test(r[col]) && !INTERACTIVE_MODULES.has(r.name)).map((r) => r.name);
    const absent = rows.filter((r) => /^(absent|—)/.test(r[col])).map((r) => r.name);
    const out = await board.run(
      `ok, bad = [], []\nfor name in ${JSON.stringify(present)}:\n    try:\n        __import__(name)\n        ok.append(name)\n` +
        `    except ImportError as e:\n        bad.append((name, str(e)))\nprint(bad)\n` +
        `msgs = {}\nfor name in ${JSON.stringify(absent)}:\n    try:\n        __import__(name)\n        msgs[name] = 'imported'\n` +
        `    except ImportError as e:\n        msgs[name] = str(e)\nimport json\nprint(json.dumps(msgs))`,
    );
    const [bad, msgs] = out.trim().split('\n');
    expect(bad).toBe('[]');
    const got = JSON.parse(msgs!) as Record<string, string>;
    for (const name of absent) expect(got[name], name).not.toBe('imported');
    if (col === 'esp32') {
      expect(got._thread).toMatch(/no threads/);
      expect(got.bluetooth).toMatch(/Bluetooth/);
    }
  });
});
