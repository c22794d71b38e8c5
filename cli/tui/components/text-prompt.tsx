// A one-line text field as drawn: label, value, the cursor. Its keys are handled by its view's model (prompt.ts).
import { Text } from 'ink';
import type { PromptState } from '../prompt.js';

export function TextPrompt({ prompt }: { prompt: PromptState }) {
  const { label, value, at } = prompt;
  return (
    <Text wrap="truncate-start">
      {label}: {value.slice(0, at)}
      <Text inverse>{value[at] ?? ' '}</Text>
      {value.slice(at + 1)}
      <Text dimColor> (Enter ok, Esc cancel)</Text>
    </Text>
  );
}
