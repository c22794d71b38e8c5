// Files as drawn: a board folder beside a local folder, or the plan of a sync before it runs. Keys: files-model.ts.
import { Box, Text } from 'ink';
import { formatBytes } from '../../../protocol/fs/units.js';
import type { FilesModel, PlanPreview } from '../files-model.js';
import { useStore } from '../store.js';
import { TextPrompt } from './text-prompt.js';

/** A window of `rows` items that keeps the selection visible. */
function windowed<T>(items: T[], selected: number, rows: number): { items: T[]; first: number } {
  const first = Math.max(0, Math.min(selected - Math.floor(rows / 2), items.length - rows));
  return { items: items.slice(first, first + rows), first };
}

export interface FilesViewProps {
  model: FilesModel;
  connected: boolean;
  height: number;
}

function PlanView({ preview, height }: { preview: PlanPreview; height: number }) {
  const { plan } = preview;
  const target = `sync ${preview.localDir} → :${preview.boardDir}${preview.delete ? ' --delete' : ''}`;
  if (!plan) {
    return (
      <Box flexDirection="column" height={height} borderStyle="single" borderColor="yellow" overflow="hidden">
        <Text bold wrap="truncate">{target}</Text>
        <Text dimColor>comparing with the board…</Text>
      </Box>
    );
  }
  const rows = [
    ...plan.mkdirs.map((d) => `+ ${d}/`),
    ...plan.uploads.map((u) => `${u.reason === 'new' ? '+' : '~'} ${u.rel}${u.reason === 'new' ? '' : ' (changed)'}`),
    ...plan.deletes.map((d) => `- ${d.rel}${d.kind === 'dir' ? '/' : ''} (delete on the board)`),
  ];
  const room = Math.max(1, height - 5);
  const shown = rows.length > room ? [...rows.slice(0, room - 1), `… and ${rows.length - room + 1} more`] : rows;
  const summary = `${plan.uploads.length} to upload, ${plan.deletes.length} to delete, ${plan.unchanged.length} unchanged`;
  return (
    <Box flexDirection="column" height={height} borderStyle="single" borderColor="yellow" overflow="hidden">
      <Text bold wrap="truncate-start">{target}</Text>
      <Text wrap="truncate">{summary}</Text>
      {rows.length === 0 ? <Text>nothing to do: the board folder already has these files</Text> : null}
      {shown.map((r, i) => (
        <Text key={i} wrap="truncate" color={r.startsWith('-') ? 'red' : undefined}>{r}</Text>
      ))}
    </Box>
  );
}

export function FilesView({ model, connected, height }: FilesViewProps) {
  const s = useStore(model);
  const entries = model.boardEntries;
  const listing = model.listing;
  const rows = Math.max(1, height - 4);
  const boardRows = windowed(entries, s.selBoard, rows);
  const localRows = windowed(s.local, s.selLocal, rows);
  const usage = listing?.usage;
  let bottom;
  if (s.question) bottom = <Text color="yellow" wrap="truncate">{s.question.text}</Text>;
  else if (s.prompt) bottom = <TextPrompt prompt={s.prompt} />;
  else if (s.preview) bottom = <Text dimColor wrap="truncate">{s.preview.plan ? `Enter run · d ${s.preview.delete ? "don't delete" : 'also delete what the local folder lacks'} · Esc cancel` : 'Esc cancel'}</Text>;
  else bottom = <Text dimColor wrap="truncate">←→ side · Enter open · u upload · g download · x delete · r rename · s sync</Text>;
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      {s.preview ? (
        <PlanView preview={s.preview} height={height - 1} />
      ) : (
        <Box height={height - 1} overflow="hidden">
          <Box flexDirection="column" width="50%" borderStyle="single" borderColor={s.side === 'board' ? 'cyan' : 'gray'} overflow="hidden">
            <Text bold wrap="truncate">
              board :{s.boardDir} {usage ? `(${formatBytes(usage.free)} free of ${formatBytes(usage.total)})` : ''}
            </Text>
            {!connected ? <Text dimColor>not connected</Text> : !listing ? <Text dimColor>reading…</Text> : null}
            {boardRows.items.map((e, i) => (
              <Text key={e.path + e.name} wrap="truncate" inverse={s.side === 'board' && boardRows.first + i === s.selBoard}>
                {e.kind === 'dir' ? `${e.name}/` : `${e.name} ${formatBytes(e.size)}`}
              </Text>
            ))}
          </Box>
          <Box flexDirection="column" width="50%" borderStyle="single" borderColor={s.side === 'local' ? 'cyan' : 'gray'} overflow="hidden">
            <Text bold wrap="truncate-start">local {s.localDir}</Text>
            {localRows.items.map((e, i) => (
              <Text key={e.name} wrap="truncate" inverse={s.side === 'local' && localRows.first + i === s.selLocal}>
                {e.dir ? `${e.name}/` : e.name}
              </Text>
            ))}
          </Box>
        </Box>
      )}
      {bottom}
    </Box>
  );
}
