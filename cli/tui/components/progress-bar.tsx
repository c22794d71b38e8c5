// A one-line progress bar: filled blocks and a percentage.
import { Text } from 'ink';

export function ProgressBar({ done, total, width = 20 }: { done: number; total: number; width?: number }) {
  const ratio = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(ratio * width);
  return (
    <Text>
      <Text color="green">{'█'.repeat(filled)}</Text>
      <Text dimColor>{'░'.repeat(width - filled)}</Text> {String(Math.floor(ratio * 100)).padStart(3)}%
    </Text>
  );
}
