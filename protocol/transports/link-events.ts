// Listener bookkeeping shared by every transport: data fan-out and a close notification that fires once.

export class LinkEvents {
  private readonly dataListeners = new Set<(chunk: Uint8Array) => void>();
  private readonly closeListeners = new Set<(err?: Error) => void>();
  private closedWith: { err?: Error } | undefined;

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    this.dataListeners.add(listener);
    return () => this.dataListeners.delete(listener);
  }

  onClose(listener: (err?: Error) => void): () => void {
    // A late subscriber still learns that the link is gone.
    if (this.closedWith) {
      const { err } = this.closedWith;
      queueMicrotask(() => listener(err));
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  emitData(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    for (const listener of [...this.dataListeners]) listener(chunk);
  }

  emitClose(err?: Error): void {
    if (this.closedWith) return;
    this.closedWith = { err };
    for (const listener of [...this.closeListeners]) listener(err);
    this.closeListeners.clear();
    this.dataListeners.clear();
  }
}
