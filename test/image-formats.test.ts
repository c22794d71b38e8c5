import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedFixture } from './helpers/shared-dir.js';
import { decodeUf2, encodeUf2, uf2FamilyName, UF2_BLOCK_SIZE, UF2_FAMILIES, UF2_FLAGS } from '../flash/uf2.js';
import { parseIhex, writeIhex } from '../flash/ihex.js';
import { coalesceParts, mergeBin } from '../flash/merge-bin.js';
import { formatImageInfo, imageInfo } from '../flash/image-info.js';
import { decodeEspImage, decodeEspImageHeader, encodeEspImage, encodeAppDesc } from '../protocol/esp/image.js';
import { encodePartitionTable, partitionTypeCodes } from '../protocol/esp/partition-table.js';

const fixtures = sharedFixture('esp-images');
const haveFixtures = existsSync(fixtures);
if (!haveFixtures) console.warn(`image-formats: ${fixtures} is absent, skipping image-info on real ESP images`);

const bytes = (n: number, seed = 1) => new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);

describe('UF2', () => {
  it('round-trips address ranges with the RP2040 family', () => {
    const parts = [
      { offset: 0x10000000, data: bytes(700) },
      { offset: 0x10100000, data: bytes(10, 9) },
    ];
    const uf2 = encodeUf2(parts, { familyId: UF2_FAMILIES.RP2040! });
    expect(uf2.length).toBe(4 * UF2_BLOCK_SIZE); // 256 + 256 + 188, then 10
    const view = new DataView(uf2.buffer);
    expect(view.getUint32(0, true)).toBe(0x0a324655);
    expect(view.getUint32(508, true)).toBe(0x0ab16f30);
    expect(view.getUint32(8, true)).toBe(UF2_FLAGS.FAMILY_ID_PRESENT);
    expect(view.getUint32(512 + 20, true)).toBe(1); // block number
    expect(view.getUint32(24, true)).toBe(4); // number of blocks
    const decoded = decodeUf2(uf2);
    expect(decoded.blockCount).toBe(4);
    expect(decoded.familyIds).toEqual([0xe48bff56]);
    expect(decoded.ranges.map((r) => [r.offset, [...r.data], r.familyId])).toEqual(parts.map((p) => [p.offset, [...p.data], 0xe48bff56]));
    expect(uf2FamilyName(0xe48bff56)).toBe('RP2040');
  });

  it('writes and checks the per-block MD5 extension', () => {
    const uf2 = encodeUf2([{ offset: 0, data: bytes(300) }], { familyId: UF2_FAMILIES['ESP32-S3']!, md5: true });
    expect(decodeUf2(uf2).ranges[0]!.data.length).toBe(300);
    const corrupt = uf2.slice();
    corrupt[32 + 5] ^= 1;
    expect(() => decodeUf2(corrupt)).toThrow(/block 0 at 0x0: payload MD5 mismatch/);
  });

  it('skips blocks that are not for main flash', () => {
    const uf2 = encodeUf2([{ offset: 0x2000, data: bytes(512) }], { familyId: 1 });
    new DataView(uf2.buffer).setUint32(512 + 8, UF2_FLAGS.NOT_MAIN_FLASH | UF2_FLAGS.FAMILY_ID_PRESENT, true);
    const decoded = decodeUf2(uf2);
    expect(decoded.skippedBlocks).toBe(1);
    expect(decoded.ranges.map((r) => [r.offset, r.data.length])).toEqual([[0x2000, 256]]);
  });

  it('rejects malformed files with the block that is wrong', () => {
    const uf2 = encodeUf2([{ offset: 0, data: bytes(600) }], { familyId: 1 });
    expect(() => decodeUf2(uf2.subarray(0, 700))).toThrow(/700 bytes, not a whole number of 512-byte blocks/);
    const badStart = uf2.slice();
    badStart[512] = 0;
    expect(() => decodeUf2(badStart)).toThrow(/block 1 at 0x200 has bad start magic/);
    const badEnd = uf2.slice();
    badEnd[1023] = 0;
    expect(() => decodeUf2(badEnd)).toThrow(/block 1 at 0x200 has bad end magic/);
    const big = uf2.slice();
    new DataView(big.buffer).setUint32(16, 477, true);
    expect(() => decodeUf2(big)).toThrow(/477-byte payload/);
    const overlapping = uf2.slice();
    new DataView(overlapping.buffer).setUint32(512 + 12, 0x80, true);
    expect(() => decodeUf2(overlapping)).toThrow(/overlaps/);
  });
});

describe('Intel HEX', () => {
  it('round-trips ranges across 64 KiB boundaries with a start address', () => {
    const parts = [
      { offset: 0xfff8, data: bytes(24) },
      { offset: 0x08000000, data: bytes(40, 3) },
    ];
    const text = writeIhex(parts, { startLinearAddress: 0x08000131 });
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe(':08FFF800' + [...parts[0]!.data.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join('') + lines[0]!.slice(-2));
    expect(lines).toContain(':020000040001F9'); // upper 16 bits become 0x0001 at the boundary
    expect(lines).toContain(':020000040800F2');
    expect(lines).toContain(':0400000508000131BD');
    expect(lines[lines.length - 1]).toBe(':00000001FF');
    const parsed = parseIhex(text);
    expect(parsed.startLinearAddress).toBe(0x08000131);
    expect(parsed.ranges.map((r) => [r.offset, [...r.data]])).toEqual(parts.map((p) => [p.offset, [...p.data]]));
  });

  it('honours extended segment (02) and start segment (03) records', () => {
    const text = [':020000021000EC', ':0400100001020304E2', ':0400000312345678E5', ':00000001FF'].join('\r\n');
    const parsed = parseIhex(text);
    expect(parsed.ranges).toEqual([{ offset: 0x10010, data: new Uint8Array([1, 2, 3, 4]) }]);
    expect(parsed.startSegmentAddress).toEqual({ cs: 0x1234, ip: 0x5678 });
  });

  it('rejects malformed records with the line number', () => {
    expect(() => parseIhex(':0400100001020304E3\n:00000001FF')).toThrow(/line 1: checksum mismatch: record has 0xe3, computed 0xe2/);
    expect(() => parseIhex('\n0400100001020304E2\n')).toThrow(/line 2: a record must start with ':'/);
    expect(() => parseIhex(':0500100001020304E2\n:00000001FF')).toThrow(/byte count says 5 data bytes, record has 4/);
    expect(() => parseIhex(':0400100001020304E\n')).toThrow(/odd number of hex digits/);
    expect(() => parseIhex(':0400100001020304E2\n')).toThrow(/no end-of-file \(type 01\) record/);
    expect(() => parseIhex(':00000001FF\n:0400100001020304E2')).toThrow(/line 2: data after the end-of-file record/);
    expect(() => parseIhex(':00000007F9\n')).toThrow(/unknown record type 0x07/);
    expect(() => parseIhex(':0100000401FA\n:00000001FF')).toThrow(/type 0x04 needs 2 data bytes, has 1/);
  });
});

describe('merge-bin', () => {
  it('pads gaps and the tail with 0xFF', () => {
    const out = mergeBin(
      [
        { offset: 0x1000, data: bytes(16) },
        { offset: 0x10, data: bytes(4, 7) },
      ],
      { padToSize: 0x2000 },
    );
    expect(out.length).toBe(0x2000);
    expect(out.subarray(0, 0x10).every((b) => b === 0xff)).toBe(true);
    expect([...out.subarray(0x10, 0x14)]).toEqual([...bytes(4, 7)]);
    expect(out.subarray(0x14, 0x1000).every((b) => b === 0xff)).toBe(true);
    expect([...out.subarray(0x1000, 0x1010)]).toEqual([...bytes(16)]);
    expect(out.subarray(0x1010).every((b) => b === 0xff)).toBe(true);
    expect(mergeBin([{ offset: 0x1000, data: bytes(4) }], { targetOffset: 0x1000 })).toEqual(bytes(4));
  });

  it('refuses overlapping parts, naming both', () => {
    expect(() =>
      mergeBin([
        { offset: 0x1000, data: bytes(0x7100), name: 'bootloader.bin' },
        { offset: 0x8000, data: bytes(0xc00), name: 'partitions.bin' },
      ]),
    ).toThrow("'partitions.bin' at 0x8000..0x8c00 overlaps 'bootloader.bin' at 0x1000..0x8100");
    expect(() => mergeBin([{ offset: 0, data: bytes(0x3000) }], { padToSize: 0x2000 })).toThrow(/more than --pad-to-size/);
  });

  it('writes UF2 with the chip family and MD5, and Intel HEX', () => {
    const parts = [{ offset: 0x0, data: bytes(300) }, { offset: 0x8000, data: bytes(32) }];
    const uf2 = decodeUf2(mergeBin(parts, { format: 'uf2', chip: 'esp32c3' }));
    expect(uf2.familyIds).toEqual([0xd42ba06c]);
    expect(uf2.ranges.map((r) => [r.offset, r.data.length])).toEqual([[0, 300], [0x8000, 32]]);
    const hex = parseIhex(mergeBin(parts, { format: 'hex' }));
    expect(hex.ranges.map((r) => [r.offset, [...r.data]])).toEqual(parts.map((p) => [p.offset, [...p.data]]));
    expect(() => mergeBin(parts, { format: 'uf2' })).toThrow(/needs the chip/);
    expect(() => mergeBin(parts, { format: 'hex', padToSize: 0x400000 })).toThrow(/only apply to raw/);
  });

  it('coalesces touching parts', () => {
    const joined = coalesceParts([{ offset: 4, data: bytes(4, 2) }, { offset: 0, data: bytes(4, 1) }]);
    expect(joined).toHaveLength(1);
    expect([...joined[0]!.data]).toEqual([...bytes(4, 1), ...bytes(4, 2)]);
  });
});

describe('imageInfo on each kind', () => {
  const app = encodeEspImage({
    chip: 'esp32s3',
    entry: 0x40375000,
    segments: [
      { loadAddress: 0x3c000020, data: encodeAppDesc({ projectName: 'demo', version: '1.2.3', idfVer: 'v5.4.2' }) },
      { loadAddress: 0x40374000, data: bytes(64) },
    ],
    flashSize: '8MB',
    flashFreq: '80m',
  });
  const bootloader = encodeEspImage({ chip: 'esp32s3', entry: 0x403c98d4, segments: [{ loadAddress: 0x403c9700, data: bytes(100) }] });
  const table = encodePartitionTable([
    { label: 'nvs', ...partitionTypeCodes('data', 'nvs'), offset: 0x9000, size: 0x6000, flags: 0 },
    { label: 'factory', ...partitionTypeCodes('app', 'factory'), offset: 0x10000, size: 0x100000, flags: 0 },
  ]);

  it('recognises an app and formats it like esptool', () => {
    const info = imageInfo(app, 'app.bin');
    expect(info.kind).toBe('esp-app');
    const text = formatImageInfo(info);
    expect(text).toContain('Detected image type: ESP32-S3 application image');
    expect(text).toContain('Entry point: 0x40375000');
    expect(text).toContain('Flash size: 8MB');
    expect(text).toContain('Flash freq: 80m');
    expect(text).toContain('Chip ID: 9 (ESP32-S3)');
    expect(text).toMatch(/ {6}0 {2}0x00100 {2}0x3c000020 {2}0x00000018 {2}DROM/);
    expect(text).toMatch(/1 {2}0x00040 {2}0x40374000 {2}0x00000120 {2}MEM_INTERNAL, IRAM/);
    expect(text).toMatch(/Checksum: 0x[0-9a-f]{2} \(valid\)/);
    expect(text).toMatch(/Validation hash: [0-9a-f]{64} \(valid\)/);
    expect(text).toContain('Project name: demo');
    expect(text).toContain('App version: 1.2.3');
  });

  it('shows an invalid checksum instead of refusing', () => {
    const broken = app.slice();
    broken[0x20 + 100] ^= 0xff;
    const text = formatImageInfo(imageInfo(broken));
    expect(text).toMatch(/Checksum: 0x[0-9a-f]{2} \(invalid - calculated 0x[0-9a-f]{2}\)/);
    expect(text).toMatch(/Validation hash: [0-9a-f]{64} \(invalid - calculated [0-9a-f]{64}\)/);
  });

  it('recognises bootloader, partition table, UF2 and Intel HEX files', () => {
    expect(imageInfo(bootloader).kind).toBe('esp-bootloader');
    const t = imageInfo(table);
    expect(t.kind).toBe('partition-table');
    expect(formatImageInfo(t)).toMatch(/factory +app +factory +0x00010000 +0x00100000/);
    const u = imageInfo(encodeUf2([{ offset: 0x10000000, data: bytes(600) }], { familyId: UF2_FAMILIES.RP2040! }));
    expect(u.kind).toBe('uf2');
    expect(formatImageInfo(u)).toContain('Families: 0xe48bff56 (RP2040)');
    expect(formatImageInfo(u)).toContain('0x10000000..0x10000258  (600 bytes)');
    const h = imageInfo(new TextEncoder().encode(writeIhex([{ offset: 0x100, data: bytes(20) }], { startLinearAddress: 0x100 })));
    expect(h.kind).toBe('ihex');
    expect(formatImageInfo(h)).toContain('Start address: 0x00000100');
    expect(() => imageInfo(new Uint8Array([1, 2, 3]), 'junk.bin')).toThrow(/junk.bin: not a recognised firmware image \(first bytes: 01 02 03\)/);
  });

  it('recognises a merged image and lists bootloader, table and app', () => {
    const merged = mergeBin([
      { offset: 0x0, data: bootloader },
      { offset: 0x8000, data: table },
      { offset: 0x10000, data: app },
    ]);
    const info = imageInfo(merged);
    if (info.kind !== 'merged') throw new Error(`detected ${info.kind}`);
    expect(info.chip).toBe('ESP32-S3');
    expect(info.bootloader.offset).toBe(0);
    expect(info.apps.map((a) => [a.partition.label, a.state, a.image?.appDesc?.projectName])).toEqual([['factory', 'image', 'demo']]);
    expect(info.warnings).toEqual([]);
    const text = formatImageInfo(info);
    expect(text).toContain('0x00010000  app \'factory\' (ESP32-S3, demo 1.2.3, checksum valid, hash valid)');
    expect(text).toContain('0x00008000  partition table (2 entries, MD5 valid)');
  });

  it("sets the flash mode, frequency and size in the header of the bootloader at the chip's offset only, as esptool merge-bin does", () => {
    const parts = [{ offset: 0x0, data: bootloader, name: 'bootloader.bin' }, { offset: 0x10000, data: app }];
    const warnings: string[] = [];
    const merged = mergeBin(parts, { chip: 'esp32s3', flash: { flashMode: 'qout', flashFreq: '80m', flashSize: '16MB' }, onWarning: (w) => warnings.push(w) });
    const image = decodeEspImage(merged.subarray(0, bootloader.length)); // its SHA-256 made anew (decoding checks it)
    expect([image.flashMode, image.flashFreq, image.flashSize, image.hashAppended]).toEqual(['qout', '80m', '16MB', true]);
    const before = decodeEspImageHeader(bootloader);
    expect([before.flashMode, before.flashSize]).toEqual(['dio', '4MB']);
    expect(merged.subarray(0x10000, 0x10000 + app.length)).toEqual(app); // the app keeps its 8MB/80m
    expect(warnings).toEqual([]);
    expect(mergeBin(parts, { chip: 'esp32s3', flash: { flashMode: 'keep', flashFreq: 'keep' } })).toEqual(mergeBin(parts));
    // On the ESP32 the bootloader sits at 0x1000: an image at 0x0 is left alone.
    expect(mergeBin(parts, { chip: 'esp32', flash: { flashMode: 'qout' } })).toEqual(mergeBin(parts));
    expect(() => mergeBin(parts, { flash: { flashMode: 'qout' } })).toThrow(/needs --chip/);
  });

  it('warns when a merged image puts the bootloader where the chip does not look', () => {
    const merged = mergeBin([
      { offset: 0x1000, data: bootloader },
      { offset: 0x8000, data: table },
    ]);
    const info = imageInfo(merged);
    if (info.kind !== 'merged') throw new Error(`detected ${info.kind}`);
    expect(info.warnings).toEqual(['ESP32-S3 loads its bootloader from 0x0, but this image has it at 0x1000']);
    expect(info.apps[0]!.state).toBe('empty');
  });

  describe.skipIf(!haveFixtures)('real images', () => {
    it('describes the ESP32-C3 bootloader and the ESP32-S2 app', () => {
      const bl = formatImageInfo(imageInfo(readFileSync(path.join(fixtures, 'bootloader_esp32c3.bin'))));
      expect(bl).toContain('Detected image type: ESP32-C3 bootloader image');
      expect(bl).toContain('Validation hash: 4faeab1bd3fd6a7d4adfa0fd38f41bfc67a8c3c0a9d6d882b65580da2e5e6347 (valid)');
      expect(bl).toMatch(/0 {2}0x00014 {2}0x3fcd6100 {2}0x00000018 {2}DRAM, BYTE_ACCESSIBLE/);
      const app = formatImageInfo(imageInfo(readFileSync(path.join(fixtures, 'esp_idf_blink_esp32s2.bin'))));
      expect(app).toContain('Project name: blink');
      expect(app).toMatch(/3 {2}0x15ce8 {2}0x40080020 {2}0x00010018 {2}IROM/);
    });
  });
});
