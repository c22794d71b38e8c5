// `image-info`: recognise a firmware file (ESP app or bootloader image, partition table, merged flash image,
// UF2, Intel HEX) and describe it. imageInfo returns data; formatImageInfo renders it like esptool v5.
import { BoardError } from '../protocol/errors.js';
import { decodeEspImage, ESP_IMAGE_MAGIC, findChip, memoryTypes, type EspImage } from '../protocol/esp/image.js';
import {
  bootPartition,
  decodePartitionTable,
  PARTITION_TABLE_MAX_LEN,
  PARTITION_TABLE_OFFSET,
  PARTITION_TYPES,
  type DecodedPartition,
  type PartitionTable,
} from '../protocol/esp/partition-table.js';
import { decodeUf2, isUf2, uf2FamilyName, type Uf2File } from './uf2.js';
import { isIhex, parseIhex, type IhexFile } from './ihex.js';

export interface MergedApp {
  partition: DecodedPartition;
  /** 'empty': the partition starts erased (0xFF) or lies past the end of the file. */
  state: 'image' | 'empty' | 'invalid';
  image?: EspImage;
  error?: string;
}

interface Common {
  name?: string;
  size: number;
}

export type ImageInfo = Common &
  (
    | { kind: 'esp-app' | 'esp-bootloader'; chip?: string; image: EspImage }
    | { kind: 'partition-table'; table: PartitionTable }
    | {
      kind: 'merged';
      chip?: string;
      /** The flash address the file's first byte belongs at (MicroPython's ESP32 release files: 0x1000). */
      flashOffset: number;
      /** `offset`: the bootloader's flash address. */
      bootloader: { offset: number; image: EspImage };
      partitionTable: PartitionTable;
      apps: MergedApp[];
      warnings: string[];
    }
    | { kind: 'uf2'; uf2: Uf2File }
    | { kind: 'ihex'; hex: IhexFile }
  );

const hex = (n: number, width = 0) => '0x' + n.toString(16).padStart(width, '0');
const isErased = (b: Uint8Array) => b.every((x) => x === 0xff);
const hasTableMagic = (b: Uint8Array, at: number) => b[at] === 0xaa && b[at + 1] === 0x50;

const BOOTLOADER_OFFSETS = [0x0, 0x1000, 0x2000]; // C3/S3/…, ESP32/S2, P4/C5

/**
 * The layout of a merged image: one that starts at the bootloader (a release file, as MicroPython's ESP32 .bin for
 * 0x1000) or at flash offset 0 with an erased lead-in before the bootloader; the partition table at 0x8000.
 */
function mergedLayout(bytes: Uint8Array): { flashOffset: number; bootloader: number } | undefined {
  for (const flashOffset of BOOTLOADER_OFFSETS) {
    const table = PARTITION_TABLE_OFFSET - flashOffset;
    if (bytes.length <= table + 32 || !hasTableMagic(bytes, table)) continue;
    if (flashOffset > 0) return bytes[0] === ESP_IMAGE_MAGIC ? { flashOffset, bootloader: flashOffset } : undefined;
    const bl = BOOTLOADER_OFFSETS.find((off) => bytes[off] === ESP_IMAGE_MAGIC && isErased(bytes.subarray(0, off)));
    if (bl !== undefined) return { flashOffset: 0, bootloader: bl };
  }
  return undefined;
}

function mergedInfo(bytes: Uint8Array, layout: { flashOffset: number; bootloader: number }): ImageInfo {
  const at = (flashAddress: number) => flashAddress - layout.flashOffset;
  const blOffset = layout.bootloader;
  const bootloader = decodeEspImage(bytes.subarray(at(blOffset), at(PARTITION_TABLE_OFFSET)), { verify: false });
  const chip = findChip(bootloader.chipId);
  const warnings: string[] = [];
  if (chip && chip.bootloaderOffset !== blOffset) {
    warnings.push(`${chip.name} loads its bootloader from ${hex(chip.bootloaderOffset)}, but this image has it at ${hex(blOffset)}`);
  }
  const partitionTable = decodePartitionTable(bytes.subarray(at(PARTITION_TABLE_OFFSET), at(PARTITION_TABLE_OFFSET) + PARTITION_TABLE_MAX_LEN), { verify: false });
  const apps = partitionTable.entries
    .filter((p) => p.type === PARTITION_TYPES.app)
    .map((partition): MergedApp => {
      const slice = bytes.subarray(at(partition.offset), at(partition.offset) + partition.size);
      if (slice.length === 0 || slice[0] === 0xff) return { partition, state: 'empty' };
      try {
        const image = decodeEspImage(slice, { verify: false });
        if (image.chipId !== bootloader.chipId) {
          warnings.push(`app '${partition.label}' is built for ${image.chipName ?? `chip id ${image.chipId}`}, the bootloader for ${bootloader.chipName ?? `chip id ${bootloader.chipId}`}`);
        }
        return { partition, state: 'image', image };
      } catch (err) {
        return { partition, state: 'invalid', error: (err as Error).message };
      }
    });
  if (!bootPartition(partitionTable)) warnings.push('the partition table has no app partition to boot');
  return { kind: 'merged', size: bytes.length, chip: bootloader.chipName, flashOffset: layout.flashOffset, bootloader: { offset: blOffset, image: bootloader }, partitionTable, apps, warnings };
}

/** Recognise and decode a firmware file. Throws BAD_IMAGE when the format is unknown or the file is malformed. */
export function imageInfo(bytes: Uint8Array, name?: string): ImageInfo {
  const base = { name, size: bytes.length };
  const layout = mergedLayout(bytes);
  if (layout) return { ...mergedInfo(bytes, layout), name };
  if (bytes[0] === ESP_IMAGE_MAGIC) {
    const image = decodeEspImage(bytes, { verify: false });
    return { ...base, kind: image.appDesc ? 'esp-app' : 'esp-bootloader', chip: image.chipName, image };
  }
  if (hasTableMagic(bytes, 0)) return { ...base, kind: 'partition-table', table: decodePartitionTable(bytes, { verify: false }) };
  if (isUf2(bytes)) return { ...base, kind: 'uf2', uf2: decodeUf2(bytes) };
  if (isIhex(bytes)) return { ...base, kind: 'ihex', hex: parseIhex(bytes) };
  const head = Buffer.from(bytes.subarray(0, 8)).toString('hex').replace(/(..)/g, '$1 ').trim();
  throw new BoardError('BAD_IMAGE', `${name ?? 'file'}: not a recognised firmware image (first bytes: ${head || 'none'})`);
}

const validity = (ok: boolean) => (ok ? 'valid' : 'invalid');
const rev = (full: number) => `v${Math.floor(full / 100)}.${full % 100}`;

function title(text: string): string[] {
  return ['', text, '='.repeat(text.length)];
}

function formatEspImage(image: EspImage): string[] {
  const chip = image.chipName ?? 'ESP';
  const d = image.pinDrive;
  const lines = [
    ...title(`${chip} Image Header`),
    'Image version: 1',
    `Entry point: ${hex(image.entry, 8)}`,
    `Segments: ${image.segmentCount}`,
    `Flash size: ${image.flashSize ?? `unknown (${hex(image.flashSizeCode)})`}`,
    `Flash freq: ${image.flashFreq ?? `unknown (${hex(image.flashFreqCode)})`}`,
    `Flash mode: ${image.flashMode?.toUpperCase() ?? `unknown (${hex(image.flashModeCode)})`}`,
    ...title(`${chip} Extended Image Header`),
    `WP pin: ${hex(image.wpPin, 2)}${image.wpPin === 0xee ? ' (disabled)' : ''}`,
    `Flash pins drive settings: clk_drv: ${hex(d.clk)}, q_drv: ${hex(d.q)}, d_drv: ${hex(d.d)}, cs0_drv: ${hex(d.cs0)}, hd_drv: ${hex(d.hd)}, wp_drv: ${hex(d.wp)}`,
    `Chip ID: ${image.chipId}${image.chipName ? ` (${image.chipName})` : ' (unknown chip)'}`,
    `Minimal chip revision: ${rev(image.minChipRevFull)}, (legacy min_rev = ${image.minRevLegacy})`,
    `Maximal chip revision: ${rev(image.maxChipRevFull)}`,
    ...title('Segments Information'),
    'Segment   Length   Load addr   File offs  Memory types',
    '-------  -------  ----------  ----------  ------------',
    ...image.segments.map(
      (s, i) =>
        `${String(i).padStart(7)}  ${hex(s.data.length, 5)}  ${hex(s.loadAddress, 8)}  ${hex(s.fileOffset, 8)}  ${memoryTypes(image.chipId, s.loadAddress).join(', ')}`,
    ),
    ...title(`${chip} Image Footer`),
    `Checksum: ${hex(image.checksum.stored, 2)} (${image.checksum.valid ? 'valid' : `invalid - calculated ${hex(image.checksum.calculated, 2)}`})`,
  ];
  if (image.sha256) {
    lines.push(`Validation hash: ${image.sha256.stored} (${image.sha256.valid ? 'valid' : `invalid - calculated ${image.sha256.calculated}`})`);
  }
  const app = image.appDesc;
  if (app) {
    const page = app.mmuPageSize;
    lines.push(
      ...title('Application Information'),
      `Project name: ${app.projectName}`,
      `App version: ${app.version}`,
      `Compile time: ${app.date} ${app.time}`,
      `ELF file SHA256: ${app.appElfSha256}`,
      `ESP-IDF: ${app.idfVer}`,
      `Minimal eFuse block revision: ${Math.floor(app.minEfuseBlkRevFull / 100)}.${app.minEfuseBlkRevFull % 100}`,
      `Maximal eFuse block revision: ${Math.floor(app.maxEfuseBlkRevFull / 100)}.${app.maxEfuseBlkRevFull % 100}`,
      `MMU page size: ${page ? `${page >= 1024 ? `${page / 1024} KB` : `${page} B`}` : 'unset'}`,
      `Secure version: ${app.secureVersion}`,
    );
  }
  const bl = image.bootloaderDesc;
  if (bl) lines.push(...title('Bootloader Information'), `Bootloader version: ${bl.version}`, `ESP-IDF: ${bl.idfVer}`, `Compile time: ${bl.dateTime}`);
  return lines;
}

function formatPartitionTable(table: PartitionTable): string[] {
  const rows = table.entries.map((e) => [
    e.label,
    e.typeName,
    e.subtypeName,
    hex(e.offset, 8),
    hex(e.size, 8),
    [e.encrypted && 'encrypted', e.readonly && 'readonly'].filter(Boolean).join(',') || '-',
  ]);
  const head = ['Label', 'Type', 'Subtype', 'Offset', 'Size', 'Flags'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [
    ...title('Partition Table'),
    fmt(head),
    fmt(widths.map((w) => '-'.repeat(w))),
    ...rows.map(fmt),
    table.md5 ? `MD5: ${table.md5.stored} (${table.md5.valid ? 'valid' : `invalid - calculated ${table.md5.calculated}`})` : 'MD5: none',
  ];
}

function imageSummary(image: EspImage): string {
  const parts = [image.chipName ?? `chip id ${image.chipId}`];
  if (image.appDesc) parts.push(`${image.appDesc.projectName} ${image.appDesc.version}`);
  parts.push(`checksum ${validity(image.checksum.valid)}`);
  if (image.sha256) parts.push(`hash ${validity(image.sha256.valid)}`);
  return parts.join(', ');
}

function formatRanges(ranges: { offset: number; data: Uint8Array; familyId?: number }[]): string[] {
  return ranges.map((r) => {
    const fam = r.familyId === undefined ? '' : `  family ${hex(r.familyId, 8)}`;
    return `  ${hex(r.offset, 8)}..${hex(r.offset + r.data.length, 8)}  (${r.data.length} bytes)${fam}`;
  });
}

const TYPE_NAMES: Record<ImageInfo['kind'], string> = {
  'esp-app': 'application image',
  'esp-bootloader': 'bootloader image',
  'partition-table': 'partition table',
  merged: 'merged flash image',
  uf2: 'UF2',
  ihex: 'Intel HEX',
};

/** Text for `image-info`, section by section as esptool v5 prints it (plus sections for the other formats). */
export function formatImageInfo(info: ImageInfo): string {
  const chip = 'chip' in info && info.chip ? `${info.chip} ` : '';
  const lines = [`File size: ${info.size} (bytes)`, `Detected image type: ${chip}${TYPE_NAMES[info.kind]}`];
  switch (info.kind) {
    case 'esp-app':
    case 'esp-bootloader':
      lines.push(...formatEspImage(info.image));
      break;
    case 'partition-table':
      lines.push(...formatPartitionTable(info.table));
      break;
    case 'merged': {
      const bl = info.bootloader;
      lines.push(
        ...title('Flash Layout'),
        `File starts at flash offset ${hex(info.flashOffset, 8)} (write it there)`,
        `${hex(bl.offset, 8)}  bootloader (${imageSummary(bl.image)})`,
        `${hex(PARTITION_TABLE_OFFSET, 8)}  partition table (${info.partitionTable.entries.length} entries${info.partitionTable.md5 ? `, MD5 ${validity(info.partitionTable.md5.valid)}` : ''})`,
        ...info.apps.map((a) => {
          const what = a.image ? imageSummary(a.image) : a.state === 'empty' ? 'empty' : `invalid: ${a.error}`;
          return `${hex(a.partition.offset, 8)}  app '${a.partition.label}' (${what})`;
        }),
        ...info.warnings.map((w) => `Warning: ${w}`),
        ...formatPartitionTable(info.partitionTable),
        ...title(`Bootloader at ${hex(bl.offset)}`),
        ...formatEspImage(bl.image),
      );
      for (const a of info.apps) if (a.image) lines.push(...title(`App '${a.partition.label}' at ${hex(a.partition.offset)}`), ...formatEspImage(a.image));
      break;
    }
    case 'uf2':
      lines.push(
        ...title('UF2 Information'),
        `Blocks: ${info.uf2.blockCount}${info.uf2.skippedBlocks ? ` (${info.uf2.skippedBlocks} not for main flash)` : ''}`,
        `Families: ${info.uf2.familyIds.map((f) => `${hex(f, 8)} (${uf2FamilyName(f) ?? 'unknown'})`).join(', ') || 'none'}`,
        'Address ranges:',
        ...formatRanges(info.uf2.ranges),
      );
      break;
    case 'ihex':
      lines.push(...title('Intel HEX Information'), 'Address ranges:', ...formatRanges(info.hex.ranges));
      if (info.hex.startLinearAddress !== undefined) lines.push(`Start address: ${hex(info.hex.startLinearAddress, 8)}`);
      if (info.hex.startSegmentAddress) lines.push(`Start segment address: ${hex(info.hex.startSegmentAddress.cs, 4)}:${hex(info.hex.startSegmentAddress.ip, 4)}`);
      break;
  }
  return lines.join('\n') + '\n';
}
