// The parts every virtual board boots with: its filesystem and its simulated hardware.
import type { ControllablePlugin, VmHost } from './host-api.js';
import type { WorkerConfig } from './shared-state.js';

export async function loadPlugins(_host: VmHost, _config: WorkerConfig): Promise<ControllablePlugin[]> {
  return [];
}
