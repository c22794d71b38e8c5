// The REPL pane: the visible part of the terminal buffer, the cursor drawn on the last line.
import { Box, Text } from 'ink';

export interface ReplPaneProps {
  lines: string[];
  cursorColumn: number;
  height: number;
  /** Lines scrolled back from the live end (0: following the output). */
  scrolledBack: number;
  focused: boolean;
  /** Set while an operation borrows the link. */
  pausedFor?: string;
}

export function ReplPane({ lines, cursorColumn, height, scrolledBack, focused, pausedFor }: ReplPaneProps) {
  const rows = height - (pausedFor || scrolledBack ? 1 : 0);
  const visible = lines.slice(Math.max(0, lines.length - rows));
  const last = visible.length - 1;
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      {visible.map((line, i) => {
        if (i !== last || !focused || scrolledBack) return <Text key={i} wrap="truncate">{line || ' '}</Text>;
        const padded = line.padEnd(cursorColumn + 1);
        return (
          <Text key={i} wrap="truncate">
            {padded.slice(0, cursorColumn)}
            <Text inverse>{padded[cursorColumn]}</Text>
            {padded.slice(cursorColumn + 1)}
          </Text>
        );
      })}
      {pausedFor ? <Text color="yellow">REPL paused: {pausedFor}</Text> : scrolledBack ? <Text dimColor>-- scrolled back {scrolledBack} lines (Shift-PgDn) --</Text> : null}
    </Box>
  );
}
