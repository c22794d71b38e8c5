// A one-line text input for names, paths and offsets: Enter accepts, Esc cancels.
import { useState } from 'react';
import { Text, useInput } from 'ink';

export interface TextPromptProps {
  label: string;
  initial?: string;
  onSubmit: (value: string) => void;
  onCancel: () => void;
}

export function TextPrompt({ label, initial = '', onSubmit, onCancel }: TextPromptProps) {
  const [value, setValue] = useState(initial);
  useInput((input, key) => {
    if (key.return) onSubmit(value);
    else if (key.escape) onCancel();
    else if (key.backspace || key.delete) setValue((v) => v.slice(0, -1));
    else if (!key.ctrl && !key.meta && input) setValue((v) => v + input);
  });
  return (
    <Text>
      {label}: {value}
      <Text inverse> </Text>
      <Text dimColor> (Enter ok, Esc cancel)</Text>
    </Text>
  );
}
