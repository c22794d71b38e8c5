// Getting an ESP chip into a known loader session (reset into download mode, SYNC, identify, optional
// stub, faster baud) and letting go of it afterwards, with esptool v5's --before/--after choices.
import { BoardError } from '../protocol/errors.js';
import type { Transport } from '../protocol/transport.js';
import { CHIPS, flashSizeFromId, type ChipDef, type ChipKey } from '../protocol/esp/chips.js';
import { EspLoader } from '../protocol/esp/loader.js';
import { USB_JTAG_SERIAL_RESET, classicReset, hardReset, playReset, unixTightReset } from '../protocol/esp/reset.js';
import type { StubImage } from '../protocol/esp/stub.js';

export type BeforeReset = 'default-reset' | 'usb-reset' | 'no-reset' | 'no-reset-no-sync';
export type AfterReset = 'hard-reset' | 'soft-reset' | 'no-reset' | 'no-reset-stub' | 'watchdog-reset';

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
  /** A flasher stub from an earlier session answered the SYNC: it is used as it is, nothing is uploaded. */
  stubWasRunning: boolean;
  /** Cached result of detectFlashSize(). */
  flashSize?: number;
}

export async function connectEsp(transport: Transport, opts: ConnectOptions = {}): Promise<EspSession> {
  const loader = new EspLoader(transport, { timeoutMs: opts.timeoutMs });
  const wanted = opts.chip && opts.chip !== 'auto' ? CHIPS[opts.chip] : undefined;
  try {
    // no-reset-no-sync: something in between (or an earlier command) already synced; assume the ROM, as esptool.
    if (opts.before !== 'no-reset-no-sync') await syncLoader(loader, transport, opts);
    const stubWasRunning = loader.isStub;
    const chip = await loader.detectChip();
    if (wanted && wanted !== chip) {
      throw new BoardError('USAGE', `This chip is ${chip.name}, not ${wanted.name}. Wrong --chip argument?`, { detected: chip.name });
    }
    if (opts.stub && !stubWasRunning) await loader.runStub(opts.stub);
    if (opts.baud && opts.baud !== transport.baudRate) await loader.changeBaud(opts.baud);
    await loader.spiAttach();
    return { transport, loader, chip, usbJtag: opts.before === 'usb-reset', stubWasRunning };
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
 * Leave the loader, as esptool v5's --after does: hard-reset pulses EN where the link has control lines;
 * soft-reset, and hard-reset over links without them (pty, TCP), use the protocol's own way out: the ROM's
 * FLASH_END(1) runs the app, and a stub first reboots into the ROM. watchdog-reset has the chip's RTC watchdog
 * reset it (no lines needed: a USB-Serial/JTAG port's way out) where esptool knows its registers, elsewhere it
 * is a hard reset. no-reset returns from a stub to the ROM
 * (FLASH_BEGIN(0) + FLASH_END(0)); no-reset-stub leaves the stub running for the next command.
 */
export async function disconnectEsp(session: EspSession, after: AfterReset = 'hard-reset'): Promise<void> {
  const { loader, transport, chip } = session;
  const hard = after === 'hard-reset' || (after === 'watchdog-reset' && !chip.rtcWdt);
  try {
    if (after === 'watchdog-reset' && chip.rtcWdt) await loader.watchdogReset(chip.rtcWdt);
    else if (hard && transport.hasControlLines) await playReset(transport, hardReset(session.usbJtag));
    else if (hard || after === 'soft-reset') await runApp(loader);
    else if (after === 'no-reset' && loader.isStub) await loader.rebootToRom();
  } finally {
    loader.dispose();
  }
}

async function runApp(loader: EspLoader): Promise<void> {
  if (loader.isStub) {
    await loader.rebootToRom();
    // The ROM starts over after the reset: it must hear a SYNC (auto-baud) before it takes commands.
    let synced = false;
    for (let t = 0; t < 10 && !synced; t++) synced = await loader.sync();
    if (!synced) throw new BoardError('NO_SYNC', 'the ROM loader did not answer after leaving the stub');
  }
  await loader.runApp();
}
