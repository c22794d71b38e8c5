// The top line: the views and their keys.
import { Box, Text } from 'ink';
import { VIEWS, type ViewName } from '../key-router.js';

const LABELS: Record<ViewName, string> = { boards: 'Boards', repl: 'REPL', files: 'Files', flash: 'Flash', board: 'Virtual board' };

export function TabBar({ view }: { view: ViewName }) {
  return (
    <Box height={1} overflow="hidden">
      <Text wrap="truncate">
        {VIEWS.map((v, i) => (
          <Text key={v} inverse={v === view} bold={v === view}>
            {` F${i + 1} ${LABELS[v]} `}
          </Text>
        ))}
        <Text dimColor> Ctrl-] 1-5 · q quit</Text>
      </Text>
    </Box>
  );
}
