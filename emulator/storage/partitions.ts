// The `_part` module behind esp32.Partition: the partition table that is flashed, reads and NOR writes on the
// board's flash (nor-flash.ts), and the OTA calls of ESP-IDF (emulator/rom/ota.ts). Python calls these synchronously; they never
// throw: a failure is a negative ESP-IDF error code, which esp32.py raises as OSError(-code, name) as the port does.
import { decodeEspImage } from '../../protocol/esp/image.js';
import {
  decodePartitionTable, PARTITION_TABLE_MAX_LEN, PARTITION_TABLE_OFFSET, type DecodedPartition, type PartitionTable,
} from '../../protocol/esp/partition-table.js';
import type { FlashStore } from '../flash-store.js';
import {
  ESP_ERR, EspError, markRunningValid, nextBootPartition, nextUpdatePartition, setBootPartition,
} from '../rom/ota.js';
import type { ControllablePlugin } from '../vm/host-api.js';
import { norFlashCalls } from './nor-flash.js';

export interface PartitionPluginOptions {
  flash: FlashStore;
  /** Offset of the app the bootloader started. */
  runningApp?: number;
}

const ERR_NAMES: Record<number, string> = {
  [ESP_ERR.NOT_FOUND]: 'ESP_ERR_NOT_FOUND',
  [ESP_ERR.INVALID_ARG]: 'ESP_ERR_INVALID_ARG',
  [ESP_ERR.OTA_VALIDATE_FAILED]: 'ESP_ERR_OTA_VALIDATE_FAILED',
  [ESP_ERR.NOT_SUPPORTED]: 'ESP_ERR_NOT_SUPPORTED',
};

export function createPartitionPlugin(opts: PartitionPluginOptions): ControllablePlugin {
  const { flash } = opts;
  // Read on first use and kept, as ESP-IDF's partition API loads the table on its first call (its MD5 check is
  // no part of a boot that never asks).
  let read = false;
  let loaded: PartitionTable | undefined;
  const table = (): PartitionTable | undefined => {
    if (read) return loaded;
    read = true;
    try {
      loaded = decodePartitionTable(flash.read(PARTITION_TABLE_OFFSET, PARTITION_TABLE_MAX_LEN));
    } catch {
      loaded = undefined; // the board booted, so this only happens when the table was overwritten since
    }
    return loaded;
  };
  const at = (offset: number) => table()?.entries.find((e) => e.offset === offset);
  const call = (fn: (t: PartitionTable) => number): number => {
    const t = table();
    if (!t) return -ESP_ERR.NOT_FOUND;
    try {
      return fn(t);
    } catch (err) {
      return err instanceof EspError ? -err.code : -ESP_ERR.INVALID_ARG;
    }
  };
  const part = (t: PartitionTable, offset: number): DecodedPartition => {
    const p = t.entries.find((e) => e.offset === offset);
    if (!p) throw new EspError(ESP_ERR.NOT_FOUND, `no partition at 0x${offset.toString(16)}`);
    return p;
  };

  const api = {
    /** JSON list of [type, subtype, offset, size, label, encrypted], in table order. */
    table: () => JSON.stringify((table()?.entries ?? []).map((e) => [e.type, e.subtype, e.offset, e.size, e.label, e.encrypted ? 1 : 0])),
    ...norFlashCalls(flash, -ESP_ERR.INVALID_ARG),
    running: () => opts.runningApp ?? -1,
    boot: () => call((t) => nextBootPartition(flash, t)?.offset ?? -ESP_ERR.NOT_FOUND),
    next_update: (offset: number) => call((t) => nextUpdatePartition(t, offset < 0 ? undefined : at(offset)).offset),
    set_boot: (offset: number) =>
      call((t) => {
        const p = part(t, offset);
        // esp_ota_set_boot_partition verifies the image first.
        try {
          const image = decodeEspImage(flash.read(p.offset, p.size), { verify: false });
          if (!image.checksum.valid || (image.sha256 && !image.sha256.valid)) throw new Error('bad image');
        } catch {
          return -ESP_ERR.OTA_VALIDATE_FAILED;
        }
        setBootPartition(flash, t, p);
        return 0;
      }),
    mark_valid: () => call((t) => (markRunningValid(flash, t, opts.runningApp === undefined ? undefined : at(opts.runningApp)), 0)),
    err_name: (code: number) => ERR_NAMES[code] ?? `ESP_ERR_${code.toString(16)}`,
  };
  return { name: 'partitions', jsModules: { _part: Object.freeze(api) } };
}
