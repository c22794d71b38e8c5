// The parts every virtual board boots with: its filesystem and its simulated hardware.
import type { ControllablePlugin, VmHost } from './host-api.js';
import type { WorkerConfig } from './shared-state.js';
import { FileFlashStore } from '../flash-store.js';
import { getProfile } from '../profiles.js';
import { createVmFsPlugin } from '../storage/vm-fs.js';
import { createPartitionPlugin } from '../storage/partitions.js';
import { createRp2FlashPlugin } from '../storage/nor-flash.js';
import { createBlockDevFsPlugin } from '../storage/blockdev-fs.js';
import { createSdCardPlugin } from '../storage/sdcard.js';
import { createHardwarePlugin, type HardwarePlugin, type PartSpec } from '../peripherals/index.js';
import { createNetPlugin, type NetChannel } from '../net/client.js';

export interface BoardPlugins {
  all: ControllablePlugin[];
  hardware: HardwarePlugin;
}

/**
 * `flashUnsynced`: the owner's cell that says whether the image has writes not yet fsynced (STATUS_FLASH_UNSYNCED);
 * `filesOpen`: the one that says a file may be open (STATUS_FILES_OPEN), set as one opens.
 */
export function loadPlugins(host: VmHost, config: WorkerConfig, flashUnsynced: Int32Array, filesOpen: Int32Array, net?: NetChannel): BoardPlugins {
  const opened = () => Atomics.store(filesOpen, 0, 1);
  const profile = getProfile(config.profile);
  const flash = new FileFlashStore(config.flashPath, config.flashSize, { unsynced: flashUnsynced });
  // The coalesced fsync of the board's writes is due while the board idles too (power-off: see board.ts stopWorker).
  host.addPoller(() => flash.flushDue());
  const storage: ControllablePlugin = {
    name: 'fs',
    ...createVmFsPlugin({
      flash,
      offset: config.fsOffset,
      size: config.fsSize,
      blockSize: config.blockSize,
      port: profile.platform === 'rp2' ? 'rp2' : 'esp32',
      clock: () => host.wallClock(),
      opened,
    }),
  };
  const hardware = createHardwarePlugin(host, {
    profile,
    uniqueId: config.uniqueId,
    mac: config.mac,
    parts: config.parts as PartSpec[] | undefined,
    persisted: config.persisted as Parameters<typeof createHardwarePlugin>[1]['persisted'],
  });
  // esp32.Partition: the flashed partition table and OTA slots (ESP boards); rp2.Flash: the filesystem's region.
  const partitions = profile.espChip
    ? [createPartitionPlugin({ flash, runningApp: config.runningApp })]
    : profile.platform === 'rp2'
      ? [createRp2FlashPlugin(flash, config.fsOffset, config.fsSize)]
      : [];
  // The Wi-Fi radio and sockets, on the profiles whose port has a network (the main thread holds the host side).
  const network = net ? [createNetPlugin(host, net)] : [];
  const sdCard = config.sdCardPath ? [createSdCardPlugin(config.sdCardPath)] : [];
  return {
    all: [storage, hardware, createBlockDevFsPlugin(() => host.wallClock(), opened), ...partitions, ...network, ...sdCard],
    hardware,
  };
}
