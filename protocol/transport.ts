// The one byte-link abstraction every client speaks through: serial ports, pseudo-terminals, TCP,
// RFC 2217 and the in-process virtual board all implement it.

export interface ControlLines {
  /** Data Terminal Ready. On ESP dev boards DTR drives GPIO0 (low = download mode) through a transistor pair. */
  dtr?: boolean;
  /** Request To Send. On ESP dev boards RTS drives EN (asserted = chip held in reset). */
  rts?: boolean;
}

export type TransportKind = 'serial' | 'pty' | 'virtual' | 'socket' | 'rfc2217' | 'webrepl';

/** A link's own file transfer beside the REPL (the WebREPL's binary records). */
export interface FileRecords {
  /** Longest board path (UTF-8 bytes) a request can name. */
  readonly maxName: number;
  /** Whether the peer answers the records (asked once, with a version request). */
  available(): Promise<boolean>;
  /** Write a board file; the board's status (0: written). */
  put(name: string, data: Uint8Array): Promise<number>;
  /** Read a board file (`size`: its size as stated, to ask ahead): its bytes, or the board's non-zero status. */
  get(name: string, size?: number): Promise<Uint8Array | number>;
}

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
  /** Set where the link moves files itself (ws://), beside the raw REPL. */
  readonly records?: FileRecords;
  /**
   * Set where no byte can be lost or damaged on the way: the in-process virtual board's rings (not a wrapper
   * of them, such as a fault-injecting one). Programs go there without the checksum guard (checked-program.ts).
   */
  readonly lossless?: boolean;
  close(): Promise<void>;
}
