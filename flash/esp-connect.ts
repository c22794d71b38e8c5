// Getting an ESP chip into a known loader session (reset into download mode, SYNC, identify, optional
// stub, faster baud) and letting go of it afterwards.
import { BoardError } from '../protocol/errors.js';
import type { Transport } from '../protocol/transport.js';
import { CHIPS, flashSizeFromId, type ChipDef, type ChipKey } from '../protocol/esp/chips.js';
import { EspLoader } from '../protocol/esp/loader.js';
import { USB_JTAG_SERIAL_RESET, classicReset, hardReset, playReset, unixTightReset } from '../protocol/esp/reset.js';
import type { StubImage } from '../protocol/esp/stub.js';

export type BeforeReset = 'default-reset' | 'usb-reset' | 'no-reset';
export type AfterReset = 'hard-reset' | 'no-reset';

export interface ConnectOptions {
  chip?: 'auto' | ChipKey;
  /** Switch to this baud rate after connecting (CHANGE_BAUDRATE). */
  baud?: number;
  before?: BeforeReset;
  /** Upload and run this flasher stub; without it everything runs in the ROM loader. */
  stub?: StubImage;
  /** Reset-and-sync rounds (esptool: 7). */
  attempts?: number;
  /** SYNC tries per round (esptool: 5). */
  syncTries?: number;
  /** Response timeout for ordinary commands. */
  timeoutMs?: number;
}

export interface EspSession {
  transport: Transport;
  loader: EspLoader;
  chip: ChipDef;
  /** Connected through the USB-Serial/JTAG peripheral (--before usb-reset): its reset needs longer. */
  usbJtag: boolean;
  /** Cached result of detectFlashSize(). */
  flashSize?: number;
}

export async function connectEsp(transport: Transport, opts: ConnectOptions = {}): Promise<EspSession> {
  const loader = new EspLoader(transport, { timeoutMs: opts.timeoutMs });
  const wanted = opts.chip && opts.chip !== 'auto' ? CHIPS[opts.chip] : undefined;
  try {
    await syncLoader(loader, transport, opts);
    const chip = await loader.detectChip();
    if (wanted && wanted !== chip) {
      throw new BoardError('USAGE', `This chip is ${chip.name}, not ${wanted.name}. Wrong --chip argument?`, { detected: chip.name });
    }
    if (opts.stub) await loader.runStub(opts.stub);
    if (opts.baud && opts.baud !== transport.baudRate) await loader.changeBaud(opts.baud);
    await loader.spiAttach();
    return { transport, loader, chip, usbJtag: opts.before === 'usb-reset' };
  } catch (err) {
    loader.dispose();
    throw err;
  }
}

async function syncLoader(loader: EspLoader, transport: Transport, opts: ConnectOptions): Promise<void> {
  const before = opts.before ?? 'default-reset';
  const attempts = opts.attempts ?? 7;
  loader.resetCounters();
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (before !== 'no-reset' && transport.hasControlLines) {
      // Alternate the two DTR/RTS styles, as some USB-serial drivers only manage one of them.
      const seq = before === 'usb-reset' ? USB_JTAG_SERIAL_RESET : attempt % 2 === 0 ? classicReset() : unixTightReset();
      await playReset(transport, seq);
    }
    loader.flushInput();
    for (let t = 0; t < (opts.syncTries ?? 5); t++) if (await loader.sync()) return;
  }
  throw connectError(loader, opts.chip && opts.chip !== 'auto' ? CHIPS[opts.chip].name : 'Espressif device');
}

/** esptool's diagnosis of a failed connect, from what (if anything) came back. */
function connectError(loader: EspLoader, label: string): BoardError {
  const prefix = `Failed to connect to ${label}`;
  if (loader.bytesSeen === 0) return new BoardError('NO_SYNC', `${prefix}: No serial data received.`);
  const boot = /boot:(0x[0-9a-fA-F]+)([\s\S]*waiting for download)?/.exec(loader.noise);
  if (boot && !boot[2]) {
    return new BoardError('BOOTLOADER', `${prefix}: Wrong boot mode detected (${boot[1]})! The chip needs to be in download mode.`, {
      bootMode: boot[1],
    });
  }
  const why = loader.lastBadFrame ?? 'Serial data stream stopped: Possible serial noise or corruption.';
  return new BoardError('NO_SYNC', `${prefix}: ${why}`, { bytesSeen: loader.bytesSeen });
}

/** Flash size from the JEDEC id's capacity byte; undefined if the id is not plausible. */
export async function detectFlashSize(session: EspSession): Promise<number | undefined> {
  session.flashSize ??= flashSizeFromId(await session.loader.flashId());
  return session.flashSize;
}

/**
 * Leave the loader. hard-reset pulses EN where the link has control lines; links without them get
 * the protocol's own way out (FLASH_END "reboot" in the ROM, RUN_USER_CODE in the stub).
 */
export async function disconnectEsp(session: EspSession, after: AfterReset = 'hard-reset'): Promise<void> {
  const { loader, transport } = session;
  try {
    if (after === 'hard-reset') {
      if (transport.hasControlLines) await playReset(transport, hardReset(session.usbJtag));
      else if (loader.isStub) await loader.runUserCode();
      else await loader.flashEnd(true);
    }
  } finally {
    loader.dispose();
  }
}
