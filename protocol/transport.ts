// The one byte-link abstraction every client speaks through: serial ports, pseudo-terminals, TCP,
// RFC 2217 and the in-process virtual board all implement it.

export interface ControlLines {
  /** Data Terminal Ready. On ESP dev boards DTR drives GPIO0 (low = download mode) through a transistor pair. */
  dtr?: boolean;
  /** Request To Send. On ESP dev boards RTS drives EN (asserted = chip held in reset). */
  rts?: boolean;
}

export type TransportKind = 'serial' | 'pty' | 'virtual' | 'socket' | 'rfc2217' | 'webrepl';

export interface Transport {
  readonly kind: TransportKind;
  /** The port string as the user gave it (after shortcut expansion). */
  readonly path: string;
  /** Resolves once the bytes are handed to the link (not necessarily on the wire). */
  write(data: Uint8Array): Promise<void>;
  /** Subscribe to incoming bytes; returns the unsubscribe function. */
  onData(listener: (chunk: Uint8Array) => void): () => void;
  /** Called once when the link goes away (closed by us: no error; lost: with the error). */
  onClose(listener: (err?: Error) => void): () => void;
  /** Set DTR/RTS where the link carries them; links without control lines ignore the call. */
  setSignals(lines: ControlLines): Promise<void>;
  /** Change the line speed where the link has one; others ignore it. */
  setBaudRate(baud: number): Promise<void>;
  readonly baudRate: number;
  /** True when setSignals reaches real control lines (a reset by DTR/RTS is possible). */
  readonly hasControlLines: boolean;
  close(): Promise<void>;
}
