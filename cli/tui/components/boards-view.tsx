// Boards as drawn: the ports and virtual boards, the one connected marked. Keys: boards-model.ts.
import { Box, Text } from 'ink';
import type { BoardsModel } from '../boards-model.js';
import { useStore } from '../store.js';
import { TextPrompt } from './text-prompt.js';

export interface BoardsViewProps {
  model: BoardsModel;
  height: number;
  connectedPort?: string;
}

export function BoardsView({ model, height, connectedPort }: BoardsViewProps) {
  const { choices, selected, prompt, note } = useStore(model);
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <Text bold>Boards</Text>
      {choices.slice(0, Math.max(1, height - 4)).map((c, i) => (
        <Text key={c.port} inverse={i === selected} wrap="truncate">
          {c.port === connectedPort ? '● ' : '  '}
          {c.port.padEnd(24)} {c.label}
        </Text>
      ))}
      {prompt ? <TextPrompt prompt={prompt} /> : <Text dimColor wrap="truncate">↑↓ choose · Enter connect · d disconnect · n new virtual board · r refresh</Text>}
      {note ? <Text wrap="truncate">{note}</Text> : null}
    </Box>
  );
}
