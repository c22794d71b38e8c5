// `edit :FILE…` (mpremote's): each board file is copied to a host temp file, edited there, and written back
// only when its bytes changed. A file that does not exist yet starts empty and is created if the editor wrote
// something. The temp folder is removed whatever happens.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Board } from '../board.js';
import { boardBasename } from './board-path.js';
import { readBoardFiles } from './download.js';
import { ENOENT } from './errno.js';
import { fileResultError, uploadFiles, type TransferOptions } from './upload.js';

export interface EditResult {
  path: string;
  changed: boolean;
  size: number;
}

/** `edit(hostPath)` runs the editor on the temp copy; it rejects to stop without writing anything back. */
export async function editBoardFiles(board: Board, paths: string[], edit: (hostPath: string) => Promise<void>, opts: TransferOptions = {}): Promise<EditResult[]> {
  const results: EditResult[] = [];
  for (const path of paths) {
    const [file] = await readBoardFiles(board, [path], opts);
    const { result } = file!;
    if (!result.ok && result.errno !== ENOENT) throw fileResultError(result);
    const before = result.ok ? file!.data : new Uint8Array();
    const dir = mkdtempSync(join(tmpdir(), 'boardctl-edit-'));
    try {
      const temp = join(dir, boardBasename(path) || 'file');
      writeFileSync(temp, before);
      await edit(temp);
      const after = readFileSync(temp);
      const changed = !Buffer.from(before).equals(after);
      if (changed) {
        const [up] = await uploadFiles(board, [{ dest: path, data: after }], [], opts);
        if (!up!.ok) throw fileResultError(up!);
      }
      results.push({ path, changed, size: after.length });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return results;
}
