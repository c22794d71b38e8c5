// The bottom line: port, baud, link mode, board and MicroPython version, and what is going on. A message
// too long to follow the rest on that line gets its own rows just above it, word-wrapped, not cut off.
import { Box, Text } from 'ink';
import type { LinkMode, LinkStatus } from '../board-link.js';
import { ProgressBar } from './progress-bar.js';

const MODE_COLOR: Record<LinkMode, string> = { disconnected: 'gray', friendly: 'green', raw: 'yellow', bootloader: 'magenta' };
const MAX_MESSAGE_ROWS = 3;

/** Everything on the status line before the message, as plain text (the mode drawn inverse). */
function head(status: LinkStatus): { mode: string; rest: string } {
  const board = [status.board, status.version && `MicroPython ${status.version}`].filter(Boolean).join(' · ');
  const rest = `${status.port ? ` ${status.port}` : ' no board'}${status.baud ? ` ${status.baud}` : ''}${board ? ` │ ${board}` : ''}`;
  return { mode: ` ${status.mode} `, rest };
}

function wrapWords(text: string, width: number): string[] {
  const rows: string[] = [];
  let row = '';
  for (const word of text.split(' ')) {
    if (row && row.length + 1 + word.length > width) {
      rows.push(row);
      row = '';
    }
    row = row ? `${row} ${word}` : word;
    for (; row.length > width; row = row.slice(width)) rows.push(row.slice(0, width));
  }
  return [...rows, row];
}

/** The message's own rows above the status line; none when it fits on the line (or an activity hides it). */
export function messageRows(status: LinkStatus, width: number): string[] {
  if (status.activity || !status.message) return [];
  const text = status.message.replace(/\s*\n\s*/g, ' ');
  const { mode, rest } = head(status);
  if (mode.length + rest.length + 3 + text.length <= width) return [];
  const rows = wrapWords(text, width);
  if (rows.length <= MAX_MESSAGE_ROWS) return rows;
  const last = rows[MAX_MESSAGE_ROWS - 1]!;
  return [...rows.slice(0, MAX_MESSAGE_ROWS - 1), `${last.slice(0, width - 1)}…`];
}

/** Rows the status takes at this width. */
export const statusHeight = (status: LinkStatus, width: number) => 1 + messageRows(status, width).length;

export function StatusLine({ status, width = Infinity }: { status: LinkStatus; width?: number }) {
  const { mode, rest } = head(status);
  const above = messageRows(status, width);
  const color = status.error ? 'red' : undefined;
  return (
    <Box flexDirection="column" flexShrink={0}>
      {above.map((row, i) => (
        <Text key={i} color={color} wrap="truncate">{row}</Text>
      ))}
      <Box height={1} overflow="hidden">
        <Text wrap="truncate">
          <Text inverse color={MODE_COLOR[status.mode]}>{mode}</Text>
          {rest}
          {status.activity ? <Text color="yellow"> │ {status.activity} </Text> : null}
          {status.progress ? <ProgressBar done={status.progress.done} total={status.progress.total} width={12} /> : null}
          {!status.activity && status.message && above.length === 0 ? <Text color={color}> │ {status.message}</Text> : null}
        </Text>
      </Box>
    </Box>
  );
}
