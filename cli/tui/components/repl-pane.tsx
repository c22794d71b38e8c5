// The REPL pane: the visible part of the terminal buffer, lines longer than the pane wrapped onto the next
// rows as a terminal would, the cursor drawn on the last line.
import { Box, Text } from 'ink';

export interface ReplPaneProps {
  lines: string[];
  cursorColumn: number;
  height: number;
  /** Columns; longer lines wrap (default: no wrapping). */
  width?: number;
  /** Lines scrolled back from the live end (0: following the output). */
  scrolledBack: number;
  focused: boolean;
  /** Set while an operation borrows the link. */
  pausedFor?: string;
}

function chunks(line: string, width: number): string[] {
  const rows: string[] = [];
  for (let i = 0; i < line.length; i += width) rows.push(line.slice(i, i + width));
  return rows.length > 0 ? rows : [''];
}

export function ReplPane({ lines, cursorColumn, height, width = Infinity, scrolledBack, focused, pausedFor }: ReplPaneProps) {
  const showCursor = focused && !scrolledBack;
  // The cursor's line is padded to it, so a cursor just past a full row starts the next row.
  const cursorLine = showCursor ? chunks((lines.at(-1) ?? '').padEnd(cursorColumn + 1), width) : [];
  const rows = [...lines.slice(0, showCursor ? -1 : undefined).flatMap((line) => chunks(line, width)), ...cursorLine];
  const visible = rows.slice(Math.max(0, rows.length - (height - (pausedFor || scrolledBack ? 1 : 0))));
  const cursorRow = visible.length - cursorLine.length + Math.floor(cursorColumn / width);
  const cursorCol = cursorColumn % width;
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      {visible.map((row, i) =>
        showCursor && i === cursorRow ? (
          <Text key={i} wrap="truncate">
            {row.slice(0, cursorCol)}
            <Text inverse>{row[cursorCol]}</Text>
            {row.slice(cursorCol + 1)}
          </Text>
        ) : (
          <Text key={i} wrap="truncate">{row || ' '}</Text>
        ),
      )}
      {pausedFor ? <Text color="yellow" wrap="truncate">REPL paused: {pausedFor}</Text> : scrolledBack ? <Text dimColor>-- scrolled back {scrolledBack} lines (Shift-PgDn) --</Text> : null}
    </Box>
  );
}
