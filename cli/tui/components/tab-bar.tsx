// The top line: help, the views and their keys, quit.
import { Box, Text } from 'ink';
import { VIEWS, type ViewName } from '../key-router.js';

const LABELS: Record<ViewName, string> = { boards: 'Boards', repl: 'REPL', files: 'Files', flash: 'Flash', board: 'Virtual board' };

export function TabBar({ view, help }: { view: ViewName; help: boolean }) {
  return (
    <Box height={1} overflow="hidden">
      <Text wrap="truncate">
        <Text inverse={help} bold={help}> F1 Help </Text>
        {VIEWS.map((v, i) => (
          <Text key={v} inverse={!help && v === view} bold={!help && v === view}>
            {` F${i + 2} ${LABELS[v]} `}
          </Text>
        ))}
        <Text dimColor> F10 quit</Text>
      </Text>
    </Box>
  );
}
