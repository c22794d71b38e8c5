// Serial port discovery: what is plugged in, with USB identity and a guess at the board behind it.
import { readFile, readdir, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface PortInfo {
  path: string;
  /** "vvvv:pppp" in lower-case hex, for USB devices. */
  vidPid?: string;
  serialNumber?: string;
  manufacturer?: string;
  product?: string;
  /** What the VID:PID usually is (bridge chip or board family). */
  board?: string;
}

const EXACT: Record<string, string> = {
  '303a:1001': 'Espressif USB-JTAG/serial (ESP32-C3/C6/S3)',
  '303a:4001': 'ESP32-S2/S3 native USB (MicroPython)',
  '303a:0002': 'ESP32-S2 native USB',
  '10c4:ea60': 'CP210x USB-UART (ESP32 dev board)',
  '1a86:7523': 'CH340 USB-UART (ESP dev board)',
  '1a86:55d4': 'CH9102 USB-UART (ESP32 dev board)',
  '1a86:55d3': 'CH343 USB-UART (ESP dev board)',
  '0403:6001': 'FTDI FT232R USB-UART',
  '0403:6010': 'FTDI FT2232 USB-UART',
  '0403:6015': 'FTDI FT231X USB-UART',
  '2e8a:0005': 'Raspberry Pi Pico (MicroPython RP2)',
  '2e8a:000a': 'Raspberry Pi Pico (RP2 CDC)',
  'f055:9800': 'pyboard (MicroPython)',
  'f055:9802': 'MicroPython USB device',
  '0d28:0204': 'BBC micro:bit (DAPLink)',
};

const BY_VENDOR: Record<string, string> = {
  '239a': 'Adafruit board',
  '2341': 'Arduino board',
  '2e8a': 'Raspberry Pi RP2 board',
  '303a': 'Espressif board',
  '1a86': 'WCH USB-UART',
  '0403': 'FTDI USB-UART',
  '10c4': 'Silicon Labs USB-UART',
  '1915': 'Nordic nRF board',
  '2886': 'Seeed Studio board',
};

/** Guess the board from a "vvvv:pppp" pair; undefined when unknown. */
export function guessBoard(vidPid: string | undefined): string | undefined {
  if (!vidPid) return undefined;
  const key = vidPid.toLowerCase();
  return EXACT[key] ?? BY_VENDOR[key.slice(0, 4)];
}

function normalizeId(id: string | undefined): string | undefined {
  if (!id) return undefined;
  const hex = id.trim().toLowerCase().replace(/^0x/, '');
  return /^[0-9a-f]{1,4}$/.test(hex) ? hex.padStart(4, '0') : undefined;
}

function withGuess(p: Omit<PortInfo, 'board'> & { vid?: string; pid?: string }): PortInfo {
  const vid = normalizeId(p.vid);
  const pid = normalizeId(p.pid);
  const vidPid = vid && pid ? `${vid}:${pid}` : undefined;
  const info: PortInfo = { path: p.path };
  if (vidPid) info.vidPid = vidPid;
  if (p.serialNumber) info.serialNumber = p.serialNumber;
  if (p.manufacturer) info.manufacturer = p.manufacturer;
  if (p.product) info.product = p.product;
  const board = guessBoard(vidPid);
  if (board) info.board = board;
  return info;
}

async function readAttr(dir: string, name: string): Promise<string | undefined> {
  try {
    const text = (await readFile(join(dir, name), 'utf8')).trim();
    return text || undefined;
  } catch {
    return undefined;
  }
}

/** Linux without udevadm: walk /sys/class/tty/NAME/device up to the USB device that owns the tty. */
export async function listPortsFromSysfs(sysRoot = '/sys/class/tty', devRoot = '/dev'): Promise<PortInfo[]> {
  let names: string[];
  try {
    names = await readdir(sysRoot);
  } catch {
    return [];
  }
  const ports: PortInfo[] = [];
  for (const name of names.sort()) {
    let dir: string;
    try {
      dir = await realpath(join(sysRoot, name, 'device'));
    } catch {
      continue; // virtual consoles, ptys: no device behind them
    }
    let usb: string | undefined;
    for (let d = dir, i = 0; i < 4 && d !== '/'; i++, d = dirname(d)) {
      if ((await readAttr(d, 'idVendor')) !== undefined) {
        usb = d;
        break;
      }
    }
    // Platform UARTs (ttyS*) always exist whether wired or not; only list them when named like real ones.
    if (!usb && !/^tty(AMA|ACM|USB|XRUSB|MFD|O)\d/.test(name)) continue;
    ports.push(
      withGuess({
        path: join(devRoot, name),
        vid: usb && (await readAttr(usb, 'idVendor')),
        pid: usb && (await readAttr(usb, 'idProduct')),
        serialNumber: usb && (await readAttr(usb, 'serial')),
        manufacturer: usb && (await readAttr(usb, 'manufacturer')),
        product: usb && (await readAttr(usb, 'product')),
      }),
    );
  }
  return ports;
}

/** Every serial port on this machine; USB identity where the system tells it. */
export async function listPorts(): Promise<PortInfo[]> {
  try {
    const { platformBinding } = await import('./transports/serial-port.js');
    const found = await (await platformBinding()).list();
    return found.map((p) =>
      withGuess({ path: p.path, vid: p.vendorId, pid: p.productId, serialNumber: p.serialNumber, manufacturer: p.manufacturer }),
    );
  } catch (err) {
    // serialport shells out to udevadm on Linux; containers and minimal systems lack it.
    if (process.platform === 'linux') return listPortsFromSysfs();
    throw err;
  }
}
