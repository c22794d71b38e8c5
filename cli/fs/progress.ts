// Transfer progress on a TTY's stderr: bytes, rate and ETA, only once a transfer has run for a second,
// redrawn at most ten times a second, erased when done. Nothing at all when stderr is not a terminal.
import { formatBytes } from '../../protocol/fs/units.js';
import type { TransferProgress } from '../../protocol/fs/upload.js';

const SHOW_AFTER_MS = 1000;
const REDRAW_MS = 100;

export interface ProgressLine {
  update(p: TransferProgress): void;
  done(): void;
}

export function progressLine(stream: NodeJS.WriteStream = process.stderr, now: () => number = Date.now): ProgressLine {
  if (!stream.isTTY) return { update() {}, done() {} };
  const started = now();
  let lastDraw = 0;
  let drawn = false;
  return {
    update(p) {
      const t = now();
      if (t - started < SHOW_AFTER_MS || t - lastDraw < REDRAW_MS) return;
      lastDraw = t;
      const rate = p.bytesDone / ((t - started) / 1000);
      const eta = rate > 0 ? Math.ceil((p.bytesTotal - p.bytesDone) / rate) : 0;
      const pct = p.bytesTotal ? Math.floor((100 * p.bytesDone) / p.bytesTotal) : 100;
      const text = `${p.file}  ${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)} ${pct}%  ${formatBytes(Math.round(rate))}/s  ETA ${eta}s`;
      stream.write(`\r\x1b[K${text.slice(0, (stream.columns || 80) - 1)}`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
