// The help screen (F1, Ctrl-] ?, or ? outside the REPL): every key of every view on one screen of 80x24.
import { Box, Text } from 'ink';

const KEYS: Array<[string, string]> = [
  ['Everywhere', 'F1 or Ctrl-] ?  this help · F10 or Ctrl-] q  quit'],
  ['', 'F2-F6 or Ctrl-] 1-5  Boards, REPL, Files, Flash, Virtual board'],
  ['', 'Ctrl-] Tab  next view · Shift-PgUp/PgDn  scroll the REPL back'],
  ['Not in REPL', 'q quit · ? help · Tab next view'],
  ['REPL', 'other keys go to the board (Ctrl-C interrupts, Ctrl-D soft reset)'],
  ['Boards', '↑↓ choose · Enter connect · d disconnect · n new board · r reread'],
  ['Files', '←→ board or local side · ↑↓ move · Enter open a folder'],
  ['', 'u upload the local file or folder into the board folder shown'],
  ['', 'g download · x delete · r rename · f reread'],
  ['', 's sync the local folder into the board folder: shows the plan first'],
  ['', '   (Enter runs it, d also deletes what the local folder lacks)'],
  ['Flash', 'i image file · g generated firmware · d detect chip · o offset'],
  ['', 'e erase first · a always write · w write (ESP boards only)'],
  ['Board', '1-9 press/release a button · +/- temperature · </> voltage'],
];

export function HelpView({ height }: { height: number }) {
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <Text bold wrap="truncate">boardctl keys <Text dimColor>(Esc, Enter, q or ? closes)</Text></Text>
      {KEYS.map(([what, keys], i) => (
        <Text key={i} wrap="truncate">
          <Text bold>{what.padEnd(12)}</Text>
          {keys}
        </Text>
      ))}
      <Text wrap="truncate">Deleting, overwriting a local file, erasing the flash: asked first, y goes on.</Text>
    </Box>
  );
}
