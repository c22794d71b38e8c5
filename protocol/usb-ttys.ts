// Whether this machine has a USB serial port, the kind auto-connect tries (protocol/connect.ts), told without listing
// the ports: serialport's listing runs udevadm on Linux (a child process, 10-20 ms), while sysfs names each tty's
// device in its link (a USB one's path passes through its bus, `/usbN/`). The early start asks it too (cli/early-start.ts).
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** False where Linux's sysfs (`ttys`) shows no USB tty, true where it shows one, undefined where it cannot tell. */
export function usbTtyPresent(ttys = '/sys/class/tty'): boolean | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return readdirSync(ttys).some((name) => /\/usb\d+\//.test(readlinkSync(join(ttys, name))));
  } catch {
    return undefined;
  }
}
