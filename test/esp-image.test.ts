import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sharedFixture } from './helpers/shared-dir.js';
import { OTA_STATE, decodeOtaEntry, encodeOtaEntry } from '../protocol/esp/otadata.js';
import {
  chipId,
  chipName,
  chipOfImage,
  decodeEspImage,
  decodeEspImageHeader,
  encodeAppDesc,
  encodeEspImage,
  memoryTypes,
  patchFlashParams,
} from '../protocol/esp/image.js';
import {
  bootPartition,
  decodePartitionTable,
  encodePartitionTable,
  partitionSubtypeName,
  partitionTypeCodes,
} from '../protocol/esp/partition-table.js';
import { isBoardError } from '../protocol/errors.js';

const fixtures = sharedFixture('esp-images');
const haveFixtures = existsSync(fixtures);
const fixture = (name: string) => new Uint8Array(readFileSync(path.join(fixtures, name)));
if (!haveFixtures) console.warn(`esp-image: ${fixtures} is absent, skipping the tests on real ESP images`);

/** Expect a BAD_IMAGE BoardError whose message matches. */
function expectBadImage(fn: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(isBoardError(caught, 'BAD_IMAGE'), `expected BAD_IMAGE, got ${String(caught)}`).toBe(true);
  expect((caught as Error).message).toMatch(message);
}

describe.skipIf(!haveFixtures)('real ESP images (../shared/fixtures/esp-images)', () => {
  it('decodes the ESP32 bootloader: chip, segments, checksum', () => {
    const img = decodeEspImage(fixture('bootloader_esp32.bin'));
    expect(img.chipName).toBe('ESP32');
    expect(img.flashMode).toBe('dio');
    expect(img.flashSize).toBe('2MB');
    expect(img.flashFreq).toBe('40m');
    expect(img.entry).toBe(0x4009816c);
    expect(img.segments.map((s) => [s.loadAddress, s.data.length])).toEqual([
      [0x3ffc0000, 0],
      [0x3ffc0000, 0xb3c],
      [0x40078000, 0x1068],
      [0x40098000, 0x2e4],
    ]);
    expect(img.checksum).toMatchObject({ stored: 0x83, calculated: 0x83, valid: true });
    // This (older) bootloader was built without an appended digest: the header byte says so.
    expect(img.hashAppended).toBe(false);
    expect(img.sha256).toBeUndefined();
    expect(img.length).toBe(7888);
    expect(img.appDesc).toBeUndefined();
    expect(memoryTypes(img.chipId, 0x40078000)).toEqual(['CACHE_APP']);
  });

  it('decodes the ESP32-C3 bootloader with a valid appended SHA-256', () => {
    const bytes = fixture('bootloader_esp32c3.bin');
    const img = decodeEspImage(bytes);
    expect(img.chipId).toBe(5);
    expect(img.chipName).toBe('ESP32-C3');
    expect(img.segmentCount).toBe(4);
    expect(img.hashAppended).toBe(true);
    expect(img.sha256?.valid).toBe(true);
    // The digest covers everything before it.
    expect(img.sha256?.stored).toBe(createHash('sha256').update(bytes.subarray(0, bytes.length - 32)).digest('hex'));
    expect(img.length).toBe(bytes.length);
    expect(chipOfImage(bytes)).toBe('ESP32-C3');
  });

  it('reads esp_app_desc_t from the ESP32-S2 blink app', () => {
    const img = decodeEspImage(fixture('esp_idf_blink_esp32s2.bin'));
    expect(img.chipName).toBe('ESP32-S2');
    expect(img.segments[0]!.loadAddress).toBe(0x3f000020);
    expect(memoryTypes(img.chipId, img.segments[0]!.loadAddress)).toEqual(['DROM']);
    expect(img.appDesc).toMatchObject({
      projectName: 'blink',
      version: 'qa-test-v5.0-20220830-4-g4532e6',
      date: 'Sep 13 2022',
      time: '19:46:07',
      secureVersion: 0,
    });
    expect(img.appDesc?.idfVer).toMatch(/^v5\.0-beta1/);
    expect(img.appDesc?.appElfSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(img.checksum.valid).toBe(true);
    expect(img.sha256?.valid).toBe(true);
  });

  it('handles the header-only ESP32-S3 file and truncations of it', () => {
    const bytes = fixture('esp32s3_header.bin');
    expect(chipOfImage(bytes)).toBe('ESP32-S3');
    const header = decodeEspImageHeader(bytes);
    expect(header).toMatchObject({ chipId: 9, segmentCount: 1, entry: 0xdeadbeef, minRevLegacy: 10 });
    // One empty segment and the checksum byte: complete, with nothing in it.
    const img = decodeEspImage(bytes);
    expect(img.segments).toHaveLength(1);
    expect(img.segments[0]!.data.length).toBe(0);
    expectBadImage(() => decodeEspImage(bytes.subarray(0, 20)), /truncated: 20 bytes, the header alone needs 24/);
    expectBadImage(() => decodeEspImage(bytes.subarray(0, 28)), /truncated: segment 0 header at 0x18/);
    expectBadImage(() => decodeEspImage(bytes.subarray(0, 40)), /truncated: checksum byte at 0x2f/);
  });

  it('decodes the RAM-loadable hello world images for ESP32 and ESP32-C3', () => {
    for (const [file, chip] of [['helloworld-esp32.bin', 'ESP32'], ['helloworld-esp32c3.bin', 'ESP32-C3']] as const) {
      const img = decodeEspImage(fixture(file));
      expect(img.chipName).toBe(chip);
      expect(img.segments).toHaveLength(2);
      expect(new TextDecoder().decode(img.segments[0]!.data)).toContain('Hello world!');
      expect(img.checksum.valid && img.sha256?.valid).toBe(true);
    }
  });

  it('reports a flipped segment byte as a checksum error, and a flipped padding byte as a hash error', () => {
    const bytes = fixture('helloworld-esp32.bin').slice();
    const segByte = bytes.slice();
    segByte[0x20] ^= 0x01;
    expectBadImage(() => decodeEspImage(segByte), /checksum mismatch: calculated 0x15, stored 0x14/);
    const lenient = decodeEspImage(segByte, { verify: false });
    expect(lenient.checksum).toMatchObject({ valid: false, calculated: 0x15, stored: 0x14 });
    // The header is outside the checksum but inside the digest.
    const headerByte = bytes.slice();
    headerByte[4] ^= 0x01;
    expectBadImage(() => decodeEspImage(headerByte), /SHA-256 mismatch/);
    expect(decodeEspImage(headerByte, { verify: false }).sha256?.valid).toBe(false);
  });

  it('patches flash mode/size/freq keeping checksum and hash valid (bootloader with digest)', () => {
    const bytes = fixture('bootloader_esp32c3.bin');
    const res = patchFlashParams(bytes, { flashMode: 'qio', flashSize: '4MB', flashFreq: '80m' });
    expect(res.changed).toBe(true);
    expect(res.hashUpdated).toBe(true);
    expect(bytes[2]).toBe(2); // input untouched
    const img = decodeEspImage(res.image);
    expect([img.flashMode, img.flashSize, img.flashFreq]).toEqual(['qio', '4MB', '80m']);
    expect(img.checksum.valid && img.sha256?.valid).toBe(true);
    // Unchanged bytes outside the header and the digest.
    expect(res.image.subarray(4, bytes.length - 32)).toEqual(bytes.subarray(4, bytes.length - 32));
  });

  it('patching keeps "keep" values and leaves images without a digest alone', () => {
    const bytes = fixture('bootloader_esp32.bin');
    const res = patchFlashParams(bytes, { flashMode: 'keep', flashSize: '4MB', flashFreq: 'keep' });
    expect(res.hashUpdated).toBe(false);
    const img = decodeEspImage(res.image);
    expect([img.flashMode, img.flashSize, img.flashFreq]).toEqual(['dio', '4MB', '40m']);
    expect(res.image.length).toBe(bytes.length);
  });

  it('decodes the single-app partition table', () => {
    const table = decodePartitionTable(fixture('partitions_singleapp.bin'));
    expect(table.entries.map((e) => [e.label, e.typeName, e.subtypeName, e.offset, e.size])).toEqual([
      ['factory', 'app', 'factory', 0x10000, 0x100000],
      ['rfdata', 'data', 'phy', 0x110000, 0x40000],
      ['wifidata', 'data', 'nvs', 0x150000, 0x40000],
    ]);
    expect(table.md5).toBeUndefined();
    expect(bootPartition(table)?.label).toBe('factory');
  });
});

describe('ESP image encode/decode', () => {
  const segments = [
    { loadAddress: 0x3fcd5820, data: new Uint8Array([1, 2, 3, 4, 5]) },
    { loadAddress: 0x403cc710, data: new Uint8Array(0x123).map((_, i) => (i * 7) & 0xff) },
  ];

  it('round-trips header fields, segments, checksum and digest', () => {
    const bytes = encodeEspImage({ chip: 'esp32c3', entry: 0x403cc71a, segments, flashMode: 'dout', flashSize: '8MB', flashFreq: '80m', minChipRevFull: 3, maxChipRevFull: 199 });
    expect(bytes.length % 16).toBe(0); // padded so the checksum ends a 16-byte block, plus 32 digest bytes
    const img = decodeEspImage(bytes);
    expect(img).toMatchObject({
      chipId: 5, chipName: 'ESP32-C3', entry: 0x403cc71a, flashMode: 'dout', flashSize: '8MB', flashFreq: '80m',
      wpPin: 0xee, minChipRevFull: 3, minRevLegacy: 0, maxChipRevFull: 199, hashAppended: true, length: bytes.length,
    });
    expect(img.segments.map((s) => s.loadAddress)).toEqual(segments.map((s) => s.loadAddress));
    expect(img.segments.map((s) => [...s.data])).toEqual(segments.map((s) => [...s.data]));
    let xor = 0xef;
    for (const s of segments) for (const b of s.data) xor ^= b;
    expect(img.checksum.stored).toBe(xor);
    expect(img.sha256?.valid).toBe(true);
  });

  it('can leave the digest off, and ignores bytes after the image', () => {
    const bytes = encodeEspImage({ chip: 0, entry: 0x40080000, segments, hashAppended: false });
    const padded = new Uint8Array(bytes.length + 100).fill(0xff);
    padded.set(bytes);
    const img = decodeEspImage(padded);
    expect(img.sha256).toBeUndefined();
    expect(img.length).toBe(bytes.length);
    expect(img.flashFreq).toBe('40m');
  });

  it('round-trips esp_app_desc_t in the first segment', () => {
    const desc = encodeAppDesc({ projectName: 'micropython', version: 'v1.27.0', idfVer: 'v5.4.2', date: 'Dec 10 2025', time: '12:00:00', secureVersion: 2 });
    const bytes = encodeEspImage({ chip: 'ESP32-S3', entry: 0x40375000, segments: [{ loadAddress: 0x3c000020, data: desc }] });
    expect(decodeEspImage(bytes).appDesc).toMatchObject({
      projectName: 'micropython', version: 'v1.27.0', idfVer: 'v5.4.2', date: 'Dec 10 2025', time: '12:00:00', secureVersion: 2, mmuPageSize: 0x10000,
    });
  });

  it('refuses fields that do not fit and unknown parameters', () => {
    expect(() => encodeAppDesc({ projectName: 'x'.repeat(32), version: 'v', idfVer: 'v' })).toThrow(/longer than 31 bytes/);
    expect(() => encodeEspImage({ chip: 'esp8266', entry: 0, segments })).toThrow(/unknown ESP chip/);
    expect(() => encodeEspImage({ chip: 'esp32', entry: 0, segments, flashFreq: '60m' })).toThrow(/not valid for ESP32/);
  });

  it('gives precise errors for malformed input', () => {
    const good = encodeEspImage({ chip: 'esp32', entry: 0x40080000, segments });
    expectBadImage(() => decodeEspImage(new Uint8Array(0)), /magic byte is nothing, expected 0xe9/);
    expectBadImage(() => decodeEspImage(new Uint8Array(64).fill(0xff)), /not an ESP image: magic byte is 0xff/);
    const many = good.slice();
    many[1] = 17;
    expectBadImage(() => decodeEspImage(many), /17 segments; at most 16/);
    const longSeg = good.slice();
    new DataView(longSeg.buffer).setUint32(24 + 4, 0x10000, true);
    expectBadImage(() => decodeEspImage(longSeg), /segment 0 at 0x18 declares 0x10000 bytes but only 0x[0-9a-f]+ remain/);
    expectBadImage(() => decodeEspImage(good.subarray(0, good.length - 10)), /appended SHA-256 .* needs 32 bytes, 22 remain/);
  });

  it('patching an image whose digest was already wrong leaves the digest and warns', () => {
    const bytes = encodeEspImage({ chip: 'esp32', entry: 0x40080000, segments });
    bytes[bytes.length - 1] ^= 0xff;
    const res = patchFlashParams(bytes, { flashMode: 'qio' });
    expect(res.hashUpdated).toBe(false);
    expect(res.warning).toMatch(/did not match before patching/);
    expect(res.image.subarray(-32)).toEqual(bytes.subarray(-32));
    expect(() => patchFlashParams(bytes, { flashSize: '3MB' })).toThrow(/unknown flash size '3MB'/);
  });

  it('maps chip ids and names both ways', () => {
    expect([0, 2, 5, 9].map((id) => chipName(id))).toEqual(['ESP32', 'ESP32-S2', 'ESP32-C3', 'ESP32-S3']);
    expect(chipId('esp32s3')).toBe(9);
    expect(chipId('ESP32-C3')).toBe(5);
    expect(chipName(99)).toBeUndefined();
    expect(chipOfImage(new Uint8Array([0xe9]))).toBeUndefined();
  });
});

describe('partition table encode/decode', () => {
  const entries = [
    { label: 'nvs', ...partitionTypeCodes('data', 'nvs'), offset: 0x9000, size: 0x6000, flags: 0 },
    { label: 'otadata', ...partitionTypeCodes('data', 'ota'), offset: 0xf000, size: 0x2000, flags: 0 },
    { label: 'ota_0', ...partitionTypeCodes('app', 'ota_0'), offset: 0x20000, size: 0x100000, flags: 0 },
    { label: 'ota_1', ...partitionTypeCodes('app', 'ota_1'), offset: 0x120000, size: 0x100000, flags: 1 },
    { label: 'vfs', ...partitionTypeCodes('data', 'littlefs'), offset: 0x220000, size: 0x1e0000, flags: 2 },
  ];

  it('round-trips entries with the MD5 row and the erased end row', () => {
    const bytes = encodePartitionTable(entries);
    expect(bytes.length).toBe(0xc00);
    const md5Row = bytes.subarray(5 * 32, 6 * 32);
    expect([...md5Row.subarray(0, 16)]).toEqual([0xeb, 0xeb, ...Array(14).fill(0xff)]);
    expect(Buffer.from(md5Row.subarray(16)).toString('hex')).toBe(createHash('md5').update(bytes.subarray(0, 160)).digest('hex'));
    expect(bytes.subarray(6 * 32).every((b) => b === 0xff)).toBe(true);
    const table = decodePartitionTable(bytes);
    expect(table.md5?.valid).toBe(true);
    expect(table.length).toBe(6 * 32);
    expect(table.entries.map(({ label, type, subtype, offset, size, flags }) => ({ label, type, subtype, offset, size, flags }))).toEqual(entries);
    expect(table.entries.map((e) => e.subtypeName)).toEqual(['nvs', 'ota', 'ota_0', 'ota_1', 'littlefs']);
    expect(table.entries[3]!.encrypted).toBe(true);
    expect(table.entries[4]!.readonly).toBe(true);
    // No factory app: the bootloader starts the lowest OTA slot.
    expect(bootPartition(table)?.label).toBe('ota_0');
  });

  it('detects a corrupted table', () => {
    const bytes = encodePartitionTable(entries);
    const flipped = bytes.slice();
    flipped[40] ^= 0x01;
    expect(() => decodePartitionTable(flipped)).toThrow(/MD5 mismatch/);
    expect(decodePartitionTable(flipped, { verify: false }).md5?.valid).toBe(false);
    const badMagic = bytes.slice();
    badMagic[64] = 0x12;
    expect(() => decodePartitionTable(badMagic)).toThrow(/entry 2 at 0x40 has invalid magic 0x1250/);
    expect(() => decodePartitionTable(new Uint8Array(0xc00).fill(0xff))).toThrow(/no entries \(erased flash\?\)/);
  });

  it('refuses overlapping partitions and long labels', () => {
    expect(() => encodePartitionTable([entries[0]!, { ...entries[1]!, offset: 0xa000 }])).toThrow(/'otadata' at 0xa000 overlaps 'nvs'/);
    expect(() => encodePartitionTable([{ ...entries[0]!, label: 'a-very-long-label-name' }])).toThrow(/longer than 16 bytes/);
    expect(() => partitionTypeCodes('data', 'nope')).toThrow(/unknown subtype 'nope'/);
  });

  it('names custom types numerically', () => {
    expect(partitionSubtypeName(0x40, 0x01)).toBe('0x1');
    expect(partitionSubtypeName(0x01, 0x81)).toBe('fat');
    expect(partitionSubtypeName(0x00, 0x20)).toBe('test');
  });
});

describe('OTA data entries', () => {
  it("carry ESP-IDF's CRC (esp_rom_crc32_le(UINT32_MAX, &ota_seq, 4)); a wrong one makes the entry invalid", () => {
    // Known values: zlib's CRC-32 of the little-endian sequence number (what ESP-IDF's ROM function computes).
    for (const [seq, crc] of [[1, 0x4743989a], [2, 0x55f63774], [0x12345678, 0x71d6a731]] as const) {
      const entry = encodeOtaEntry(seq, OTA_STATE.VALID);
      expect(new DataView(entry.buffer).getUint32(28, true), `seq ${seq}`).toBe(crc);
      expect(decodeOtaEntry(entry)).toEqual({ seq, state: OTA_STATE.VALID, valid: true });
      entry[28] ^= 1;
      expect(decodeOtaEntry(entry).valid).toBe(false);
    }
  });
});
