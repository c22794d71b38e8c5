// Reset sequences as data, played over Transport.setSignals. On the usual dev-board circuit DTR drives
// GPIO0 and RTS drives EN through a transistor pair, so (dtr,rts) = (false,true) holds the chip in reset
// and (true,false) pulls GPIO0 low as EN is released: the chip samples download mode.
import type { ControlLines, Transport } from '../transport.js';

export interface ResetStep extends ControlLines {
  /** Pause after applying the lines. */
  delayMs: number;
}

export type ResetSequence = readonly ResetStep[];

/** esptool's classic reset: EN low 100 ms, then GPIO0 low while EN rises, release GPIO0 after 50 ms. */
export function classicReset(delayMs = 50): ResetSequence {
  return [
    { dtr: false, rts: true, delayMs: 100 },
    { dtr: true, rts: false, delayMs },
    { dtr: false, delayMs: 0 },
  ];
}

/** For drivers that glitch when DTR and RTS change separately: both lines move in one call every step. */
export function unixTightReset(delayMs = 50): ResetSequence {
  return [
    { dtr: false, rts: false, delayMs: 0 },
    { dtr: true, rts: true, delayMs: 0 },
    { dtr: false, rts: true, delayMs: 100 },
    { dtr: true, rts: false, delayMs },
    { dtr: false, rts: false, delayMs: 0 },
  ];
}

/** The USB-Serial/JTAG peripheral (ESP32-C3/S3 native USB) decodes the line states itself. */
export const USB_JTAG_SERIAL_RESET: ResetSequence = [
  { dtr: false, rts: false, delayMs: 100 },
  { dtr: true, rts: false, delayMs: 100 },
  { dtr: false, rts: true, delayMs: 0 },
  { rts: true, delayMs: 100 },
  { dtr: false, rts: false, delayMs: 0 },
];

/** Pulse EN with GPIO0 high: the chip boots the application. */
export function hardReset(usbJtag = false): ResetSequence {
  return [
    { dtr: false, rts: true, delayMs: usbJtag ? 200 : 100 },
    { rts: false, delayMs: 0 },
  ];
}

export async function playReset(transport: Transport, seq: ResetSequence, sleep = defaultSleep): Promise<void> {
  for (const step of seq) {
    const lines: ControlLines = {};
    if (step.dtr !== undefined) lines.dtr = step.dtr;
    if (step.rts !== undefined) lines.rts = step.rts;
    await transport.setSignals(lines);
    if (step.delayMs > 0) await sleep(step.delayMs);
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
