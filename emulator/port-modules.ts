// The module set of each port's firmware at v1.27.0, as `help('modules')` lists it there (C modules and frozen
// ones), and whether the virtual board has each. From the ports' mpconfigport.h (at MICROPY_CONFIG_ROM_LEVEL_
// EXTRA_FEATURES) and boards/manifest.py (ports/esp32: modules/, extmod/asyncio, bundle-networking, aioespnow,
// dht, ds18x20, neopixel, onewire, umqtt.robust, umqtt.simple, upysh; ports/rp2: modules/, extmod/asyncio,
// onewire, ds18x20, dht, neopixel). The board offers exactly the modules marked HERE: the VM package's extras
// (js, jsffi, its browser asyncio, the micropython-lib modules it freezes) are not importable, as on silicon.
//
// Adding a module to a board is one line: write it under emulator/py, then mark it HERE below.

/** The board has this module. */
export const HERE = 'here';
/** A module the firmware has and the board has not: the text says why, in the ImportError. */
export type Absent = string;
export type ModuleTable = Readonly<Record<string, typeof HERE | Absent>>;

const NO_NETWORK = 'the virtual board has no networking yet';
const NO_THREADS = 'the virtual board runs one thread: its VM has no threads';
const NO_BLUETOOTH = 'the virtual board has no Bluetooth radio';
const NOT_YET = 'not on the virtual board yet';
const BOOT_ONLY = 'the virtual board mounts its filesystem itself';

/** Modules of MicroPython's core and extmod that both ports' firmware have. */
const CORE: ModuleTable = {
  __main__: HERE,
  _asyncio: HERE,
  array: HERE,
  binascii: HERE,
  builtins: HERE,
  cmath: HERE,
  collections: HERE,
  deflate: HERE,
  errno: HERE,
  framebuf: HERE,
  gc: HERE,
  hashlib: HERE,
  heapq: HERE,
  io: HERE,
  json: HERE,
  machine: HERE,
  math: HERE,
  micropython: HERE,
  os: HERE,
  platform: HERE,
  random: HERE,
  re: HERE,
  select: HERE,
  struct: HERE,
  sys: HERE,
  time: HERE,
  uctypes: HERE,
  vfs: HERE,
  // Frozen drivers and asyncio.
  'asyncio/__init__': HERE,
  'asyncio/core': HERE,
  'asyncio/event': HERE,
  'asyncio/funcs': HERE,
  'asyncio/lock': HERE,
  'asyncio/stream': HERE,
  uasyncio: HERE,
  _boot: BOOT_ONLY,
  _onewire: NOT_YET,
  _thread: NO_THREADS,
  dht: HERE,
  ds18x20: HERE,
  neopixel: HERE,
  onewire: HERE,
};

export const ESP32_MODULES: ModuleTable = {
  ...CORE,
  _espnow: NO_NETWORK,
  _webrepl: 'the WebREPL protocol runs on the host (webrepl.start serves it)',
  aioespnow: NO_NETWORK,
  apa106: NOT_YET,
  bluetooth: NO_BLUETOOTH,
  btree: NOT_YET,
  cryptolib: HERE,
  esp: HERE,
  esp32: HERE,
  espnow: NO_NETWORK,
  flashbdev: BOOT_ONLY,
  inisetup: BOOT_ONLY,
  'mip/__init__': HERE,
  network: HERE,
  ntptime: HERE,
  'requests/__init__': HERE,
  socket: HERE,
  ssl: HERE,
  tls: HERE,
  'umqtt/robust': HERE,
  'umqtt/simple': HERE,
  upysh: HERE,
  webrepl: HERE,
  webrepl_setup: HERE,
  websocket: 'the websocket framing of the WebREPL runs on the host: no websocket module for programs',
};

export const RP2_MODULES: ModuleTable = {
  ...CORE,
  _boot_fat: BOOT_ONLY,
  _rp2: NOT_YET,
  rp2: HERE,
};

/** Modules whose import is an interactive dialog (as on the firmware): importing them in a script waits for input. */
export const INTERACTIVE_MODULES: ReadonlySet<string> = new Set(['webrepl_setup']);

/** The names help('modules') prints on the board, sorted as it sorts them. */
export function presentModules(table: ModuleTable): string[] {
  return Object.keys(table).filter((n) => table[n] === HERE).sort();
}

/** Top-level import names the firmware has and the board has not, with why (frozen packages by their top name). */
export function absentModules(table: ModuleTable): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, state] of Object.entries(table)) if (state !== HERE) out[name.split('/')[0]] = state;
  for (const name of presentModules(table)) delete out[name.split('/')[0]];
  return out;
}
