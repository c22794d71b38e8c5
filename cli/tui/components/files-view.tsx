// Files: the board's tree beside a local folder. Upload, download, delete, rename, sync, free space.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { useCallback, useEffect, useState } from 'react';
import { Box, Text, useInput } from 'ink';
import { boardDirname } from '../../../protocol/fs/board-path.js';
import { formatBytes } from '../../../protocol/fs/units.js';
import type { BoardLink } from '../board-link.js';
import { downloadFile, listBoard, removeEntry, renameEntry, syncProject, uploadFile, type BoardListing } from '../files-actions.js';
import { TextPrompt } from './text-prompt.js';

interface LocalEntry {
  name: string;
  dir: boolean;
}

function readLocal(dir: string): LocalEntry[] {
  try {
    const entries = readdirSync(dir, { withFileTypes: true }).map((e) => ({ name: e.name, dir: e.isDirectory() }));
    return [{ name: '..', dir: true }, ...entries.sort((a, b) => Number(b.dir) - Number(a.dir) || a.name.localeCompare(b.name))];
  } catch {
    return [{ name: '..', dir: true }];
  }
}

/** A window of `rows` items that keeps the selection visible. */
function windowed<T>(items: T[], selected: number, rows: number): { items: T[]; first: number } {
  const first = Math.max(0, Math.min(selected - Math.floor(rows / 2), items.length - rows));
  return { items: items.slice(first, first + rows), first };
}

export interface FilesViewProps {
  link: BoardLink;
  active: boolean;
  height: number;
  initialDir: string;
}

export function FilesView({ link, active, height, initialDir }: FilesViewProps) {
  const [listing, setListing] = useState<BoardListing>();
  const [localDir, setLocalDir] = useState(initialDir);
  const [local, setLocal] = useState(() => readLocal(initialDir));
  const [side, setSide] = useState<'board' | 'local'>('local');
  const [selBoard, setSelBoard] = useState(0);
  const [selLocal, setSelLocal] = useState(0);
  const [renaming, setRenaming] = useState(false);
  const [busy, setBusy] = useState(false);

  const refresh = useCallback(async () => {
    setLocal(readLocal(localDir));
    if (link.connected) setListing(await listBoard(link));
  }, [link, localDir]);

  /** One action at a time; the result or error goes to the status line, then both sides are re-read. */
  const run = useCallback(
    (action: () => Promise<string>) => {
      setBusy(true);
      void action()
        .then((message) => link.report(message), (err: Error) => link.report(err.message, true))
        .then(() => refresh().catch((err: Error) => link.report(err.message, true)))
        .finally(() => setBusy(false));
    },
    [link, refresh],
  );

  useEffect(() => {
    if (active && !listing && link.connected) run(async () => 'board files read');
  }, [active, listing, link, run]);

  const boardEntry = listing?.entries[selBoard];
  const localEntry = local[selLocal];
  const boardDir = boardEntry ? (boardEntry.kind === 'dir' ? boardEntry.path : boardDirname(boardEntry.path)) : '/';

  useInput(
    (input, key) => {
      const count = side === 'board' ? (listing?.entries.length ?? 0) : local.length;
      const setSel = side === 'board' ? setSelBoard : setSelLocal;
      if (key.leftArrow || key.rightArrow) setSide((s) => (s === 'board' ? 'local' : 'board'));
      else if (key.upArrow) setSel((s) => Math.max(0, s - 1));
      else if (key.downArrow) setSel((s) => Math.min(count - 1, s + 1));
      else if (key.return && side === 'local' && localEntry?.dir) {
        const next = localEntry.name === '..' ? dirname(localDir) : join(localDir, localEntry.name);
        setLocalDir(next);
        setLocal(readLocal(next));
        setSelLocal(0);
      } else if (input === 'u' && localEntry && !localEntry.dir) {
        run(async () => `uploaded ${await uploadFile(link, join(localDir, localEntry.name), boardDir)}`);
      } else if (input === 'g' && boardEntry?.kind === 'file') {
        run(async () => `downloaded ${await downloadFile(link, boardEntry.path, localDir)}`);
      } else if (input === 'x' && side === 'board' && boardEntry) {
        run(async () => (await removeEntry(link, boardEntry), `deleted ${boardEntry.path}`));
      } else if (input === 'r' && side === 'board' && boardEntry) setRenaming(true);
      else if (input === 's') {
        run(async () => {
          const r = await syncProject(link, localDir);
          return `synced ${localDir}: ${r.files.length} file(s) uploaded`;
        });
      } else if (input === 'f') run(async () => 'refreshed');
    },
    { isActive: active && !renaming && !busy },
  );

  const rows = Math.max(1, height - 4);
  const boardRows = windowed(listing?.entries ?? [], selBoard, rows);
  const localRows = windowed(local, selLocal, rows);
  const usage = listing?.usage;
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <Box height={height - 2} overflow="hidden">
        <Box flexDirection="column" width="50%" borderStyle="single" borderColor={side === 'board' ? 'cyan' : 'gray'} overflow="hidden">
          <Text bold wrap="truncate">
            board :/ {usage ? `(${formatBytes(usage.free)} free of ${formatBytes(usage.total)})` : ''}
          </Text>
          {!link.connected ? <Text dimColor>not connected</Text> : null}
          {boardRows.items.map((e, i) => (
            <Text key={e.path} wrap="truncate" inverse={side === 'board' && boardRows.first + i === selBoard}>
              {'  '.repeat(e.depth)}
              {e.kind === 'dir' ? `${e.name}/` : `${e.name} ${formatBytes(e.size)}`}
            </Text>
          ))}
        </Box>
        <Box flexDirection="column" width="50%" borderStyle="single" borderColor={side === 'local' ? 'cyan' : 'gray'} overflow="hidden">
          <Text bold wrap="truncate">local {localDir}</Text>
          {localRows.items.map((e, i) => (
            <Text key={e.name} wrap="truncate" inverse={side === 'local' && localRows.first + i === selLocal}>
              {e.dir ? `${e.name}/` : e.name}
            </Text>
          ))}
        </Box>
      </Box>
      {renaming && boardEntry ? (
        <TextPrompt
          label={`rename ${boardEntry.path} to`}
          initial={boardEntry.path}
          onSubmit={(to) => {
            setRenaming(false);
            run(async () => (await renameEntry(link, boardEntry.path, to), `renamed to ${to}`));
          }}
          onCancel={() => setRenaming(false)}
        />
      ) : (
        <Text dimColor wrap="truncate">←→ side · u upload · g download · x delete · r rename · s sync · f refresh</Text>
      )}
    </Box>
  );
}
