// The base of every Transport that wraps another (fault injection, a mount's request channel, a test's
// targeted damage): each member passes through to the inner link, and a wrapper overrides only what it
// changes. A served port's extras (back-pressure, purge, modem lines) pass through too, so a server in front
// of a wrapped link keeps its flow control.
import type { ModemLines, ServedPort } from '../port-server.js';
import type { ControlLines, Transport } from '../transport.js';

export class DelegatingTransport<T extends Transport = Transport> implements ServedPort {
  /** Present exactly when the inner link has modem lines (rfc2217-server polls only those that do). */
  readonly modemLines?: () => Promise<ModemLines>;

  constructor(readonly inner: T) {
    const served = inner as ServedPort;
    if (served.modemLines) this.modemLines = () => served.modemLines!();
  }

  get kind() {
    return this.inner.kind;
  }
  get path() {
    return this.inner.path;
  }
  get baudRate() {
    return this.inner.baudRate;
  }
  get hasControlLines() {
    return this.inner.hasControlLines;
  }
  write(data: Uint8Array): Promise<void> {
    return this.inner.write(data);
  }
  onData(listener: (chunk: Uint8Array) => void): () => void {
    return this.inner.onData(listener);
  }
  onClose(listener: (err?: Error) => void): () => void {
    return this.inner.onClose(listener);
  }
  setSignals(lines: ControlLines): Promise<void> {
    return this.inner.setSignals(lines);
  }
  setBaudRate(baud: number): Promise<void> {
    return this.inner.setBaudRate(baud);
  }
  holdOutput(held: boolean): void {
    (this.inner as ServedPort).holdOutput?.(held);
  }
  async purge(what: 'receive' | 'transmit'): Promise<void> {
    await (this.inner as ServedPort).purge?.(what);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
