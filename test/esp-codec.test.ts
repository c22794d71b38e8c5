import { describe, expect, it } from 'vitest';
import { slipEncode, SlipDecoder, SLIP_END, SLIP_ESC } from '../protocol/esp/slip.js';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, splitStatus, statusBytes, u32le } from '../protocol/esp/packet.js';
import { dataChecksum, errorText, ErrorCode, Op, opName, SYNC_PAYLOAD } from '../protocol/esp/commands.js';
import { chipByMagic, chipByImageId, efuseFromMac, flashSizeFromId, formatMac, macFromEfuse } from '../protocol/esp/chips.js';
import { parseStubJson } from '../protocol/esp/stub.js';
import { SYNC_FRAME, SyncDetector, isSyncFrameStart } from '../emulator/rom/sync-detector.js';
import { classicReset, playReset, unixTightReset } from '../protocol/esp/reset.js';
import { createDuplexPair } from './helpers/esp-duplex.js';

const bytes = (...b: number[]) => Uint8Array.from(b);

describe('SLIP', () => {
  const cases: [string, Uint8Array, Uint8Array][] = [
    ['plain', bytes(1, 2, 3), bytes(0xc0, 1, 2, 3, 0xc0)],
    ['END escaped', bytes(0xc0), bytes(0xc0, 0xdb, 0xdc, 0xc0)],
    ['ESC escaped', bytes(0xdb), bytes(0xc0, 0xdb, 0xdd, 0xc0)],
    ['specials at both ends', bytes(0xdb, 5, 0xc0), bytes(0xc0, 0xdb, 0xdd, 5, 0xdb, 0xdc, 0xc0)],
    ['escape-like bytes unescaped', bytes(0xdc, 0xdd), bytes(0xc0, 0xdc, 0xdd, 0xc0)],
  ];
  it.each(cases)('encodes %s', (_name, payload, wire) => {
    expect(slipEncode(payload)).toEqual(wire);
    expect(new SlipDecoder().push(wire).frames).toEqual([payload]);
  });

  it('decodes a frame fed one byte at a time, escapes split across chunks', () => {
    const payload = bytes(0xc0, 0xdb, 0xc0, 7, 0xdb);
    const d = new SlipDecoder();
    const frames: Uint8Array[] = [];
    for (const b of slipEncode(payload)) frames.push(...d.push(bytes(b)).frames);
    expect(frames).toEqual([payload]);
  });

  it('reports garbage between frames and keeps framing', () => {
    const d = new SlipDecoder();
    const text = Buffer.from('rst:0x1 boot:0x13\r\n');
    const wire = Buffer.concat([text, slipEncode(bytes(1)), Buffer.from('xx'), slipEncode(bytes(2, 3))]);
    const ev = d.push(wire);
    expect(ev.frames).toEqual([bytes(1), bytes(2, 3)]);
    expect(Buffer.from(ev.garbage).toString()).toBe(text.toString() + 'xx');
  });

  it('drops a frame with an invalid escape and recovers on the next', () => {
    const d = new SlipDecoder();
    const ev = d.push(Uint8Array.from([SLIP_END, 1, SLIP_ESC, 0x42, 2, SLIP_END, ...slipEncode(bytes(9))]));
    expect(ev.malformed).toBe(1);
    expect(ev.frames).toEqual([bytes(9)]);
  });

  it('treats END END as a boundary, not an empty frame', () => {
    const d = new SlipDecoder();
    expect(d.push(bytes(0xc0, 0xc0, 4, 0xc0)).frames).toEqual([bytes(4)]);
  });

  it('drops an escape cut off by END', () => {
    expect(new SlipDecoder().push(bytes(0xc0, 1, 0xdb, 0xc0)).malformed).toBe(1);
  });

  it('reset() forgets a partial frame', () => {
    const d = new SlipDecoder();
    d.push(bytes(0xc0, 1, 2));
    d.reset();
    expect(d.push(bytes(3, ...slipEncode(bytes(4)))).frames).toEqual([bytes(4)]);
  });
});

describe('packets', () => {
  it('round-trips a request', () => {
    const data = bytes(1, 2, 3, 4);
    const wire = encodeRequest({ op: Op.FLASH_DATA, checksum: dataChecksum(data), data });
    expect(Array.from(wire.subarray(0, 8))).toEqual([0, 0x03, 4, 0, 0xef ^ 1 ^ 2 ^ 3 ^ 4, 0, 0, 0]);
    const d = decodeRequest(wire);
    expect(d).toEqual({ ok: true, packet: { op: Op.FLASH_DATA, checksum: 0xef ^ 4, data } });
  });

  it('round-trips a response and splits ROM and stub status', () => {
    const wire = encodeResponse({ op: Op.READ_REG, value: 0xdeadbeef, data: statusBytes(4) });
    const d = decodeResponse(wire);
    expect(d.ok && d.packet.value).toBe(0xdeadbeef);
    expect(splitStatus(statusBytes(4), 4)).toEqual({ payload: new Uint8Array(0), status: { ok: true, error: 0 } });
    const failed = splitStatus(Uint8Array.from([0xaa, 1, 0xc1]), 2)!;
    expect(failed.payload).toEqual(bytes(0xaa));
    expect(failed.status).toMatchObject({ ok: false, error: 0xc1, text: 'Bad data checksum' });
    expect(splitStatus(bytes(0), 2)).toBeUndefined();
  });

  it.each([
    ['too short', bytes(1, 8, 0, 0)],
    ['wrong direction', encodeRequest({ op: 8, checksum: 0, data: new Uint8Array(0) })],
    ['length field disagrees', bytes(1, 8, 5, 0, 0, 0, 0, 0, 1)],
  ])('rejects a malformed response: %s', (_n, frame) => {
    expect(decodeResponse(frame).ok).toBe(false);
  });

  it('names opcodes and error codes', () => {
    expect(opName(0x13)).toBe('SPI_FLASH_MD5');
    expect(opName(0x77)).toBe('0x77');
    expect(errorText(ErrorCode.INVALID_CRC)).toBe('Invalid CRC in message');
    expect(errorText(ErrorCode.INFLATE_ERROR)).toMatch(/Inflate/);
    expect(errorText(0x42)).toBe('Unknown error 0x42');
    for (const code of Object.values(ErrorCode)) expect(errorText(code)).not.toMatch(/Unknown/);
  });

  it('u32le writes little-endian words', () => {
    expect(u32le(0x12345678, 1)).toEqual(bytes(0x78, 0x56, 0x34, 0x12, 1, 0, 0, 0));
  });
});

describe('chip facts', () => {
  it('detects chips by magic and id', () => {
    expect(chipByMagic(0x00f01d83)?.name).toBe('ESP32');
    expect(chipByMagic(0x1b31506f)?.name).toBe('ESP32-C3');
    expect(chipByMagic(9)?.name).toBe('ESP32-S3');
    expect(chipByMagic(0x12345678)).toBeUndefined();
    expect(chipByImageId(5)?.name).toBe('ESP32-C3');
  });

  it('assembles the MAC as esptool does and back', () => {
    const mac = bytes(0x24, 0x0a, 0xc4, 0x12, 0x34, 0x56);
    const { low, high } = efuseFromMac(mac);
    expect([low, high]).toEqual([0xc4123456, 0x240a]);
    expect(formatMac(macFromEfuse(low, high))).toBe('24:0a:c4:12:34:56');
  });

  it('reads flash sizes from JEDEC capacity bytes', () => {
    expect(flashSizeFromId(0x1640c8)).toBe(4 * 1024 * 1024);
    expect(flashSizeFromId(0x0000ff)).toBeUndefined();
  });
});

describe('stub JSON', () => {
  it('parses esptool stub files', () => {
    const stub = parseStubJson(JSON.stringify({ entry: 0x4009_0000, text: Buffer.from('abc').toString('base64'), text_start: 0x4009_0000, data: 'AAE=', data_start: 0x3ffe_0000 }));
    expect(stub.entry).toBe(0x40090000);
    expect(stub.segments.map((s) => [s.address, Array.from(s.data)])).toEqual([[0x40090000, [97, 98, 99]], [0x3ffe0000, [0, 1]]]);
  });
  it.each([['not json', '{'], ['no entry', '{"text":"AA==","text_start":1}'], ['no segments', '{"entry":5}']])('rejects %s', (_n, text) => {
    expect(() => parseStubJson(text)).toThrow(expect.objectContaining({ code: 'BAD_IMAGE' }));
  });
});

describe('SYNC detection', () => {
  it('recognises the frame in a noisy stream, split anywhere', () => {
    expect(SYNC_FRAME.length).toBe(46);
    expect(Array.from(SYNC_FRAME.subarray(0, 13))).toEqual([0xc0, 0, 8, 0x24, 0, 0, 0, 0, 0, 7, 7, 0x12, 0x20]);
    const stream = Buffer.concat([Buffer.from('print(1)\r\n\xc0\x00\x08', 'latin1'), SYNC_FRAME]);
    for (let split = 0; split < stream.length; split++) {
      const det = new SyncDetector();
      const a = det.push(stream.subarray(0, split));
      const b = det.push(stream.subarray(split));
      expect(a || b).toBe(true);
    }
    expect(new SyncDetector().push(SYNC_FRAME.subarray(0, 45))).toBe(false);
    expect(new SyncDetector().push(Buffer.from('\xc0\x00\x08\x24 hello', 'latin1'))).toBe(false);
  });
  it('isSyncFrameStart checks prefixes', () => {
    expect(isSyncFrameStart(SYNC_FRAME.subarray(0, 3))).toBe(true);
    expect(isSyncFrameStart(bytes(0xc0, 0, 9))).toBe(false);
    expect(isSyncFrameStart(new Uint8Array(0))).toBe(false);
    expect(SYNC_PAYLOAD.length).toBe(36);
  });
});

describe('reset sequences', () => {
  it('plays steps over setSignals with the delays', async () => {
    const { host } = createDuplexPair({ hasControlLines: true });
    const slept: number[] = [];
    await playReset(host, classicReset(), async (ms) => void slept.push(ms));
    expect(host.signals).toEqual([{ dtr: false, rts: true }, { dtr: true, rts: false }, { dtr: false }]);
    expect(slept).toEqual([100, 50]);
    expect(unixTightReset().every((s) => s.dtr !== undefined && s.rts !== undefined)).toBe(true);
  });
});
