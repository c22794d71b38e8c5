// Flash as drawn: image, chip, offset, options, progress and the last result. Keys: flash-model.ts.
import { Box, Text } from 'ink';
import type { LinkStatus } from '../board-link.js';
import type { FlashModel } from '../flash-model.js';
import { useStore } from '../store.js';
import { ProgressBar } from './progress-bar.js';
import { TextPrompt } from './text-prompt.js';

const hex = (n: number) => `0x${n.toString(16)}`;

export interface FlashViewProps {
  model: FlashModel;
  status: LinkStatus;
  height: number;
}

export function FlashView({ model, status, height }: FlashViewProps) {
  const s = useStore(model);
  const { image, chip, offsetOverride, erase, always, busy, result, prompt, question } = s;
  const offset = model.offset;
  const absent = model.notApplicable;
  const progress = status.mode === 'bootloader' ? status.progress : undefined;
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <Text bold>Flash</Text>
      {absent ? <Text color="yellow">{absent}</Text> : null}
      <Text wrap="truncate">image:  {image ? `${image.name} (${image.info.kind}, ${image.data.length} bytes)` : 'none (i choose a file, g generated firmware)'}</Text>
      <Text wrap="truncate">chip:   {chip ? `${chip.chip} (bootloader at ${hex(chip.bootloaderOffset)})` : 'not detected yet (d detect)'}</Text>
      <Text wrap="truncate">offset: {offset === undefined ? 'from the detected chip' : hex(offset)}{offsetOverride === undefined ? '' : ' (set by you)'}</Text>
      <Text>erase:  {erase ? 'whole flash first' : 'no'}</Text>
      <Text>write:  {always || erase ? 'always' : 'skip what the flash already holds'}</Text>
      <Box height={1}>{busy ? <Text color="yellow">{status.activity ?? 'working'} </Text> : null}{progress ? <ProgressBar done={progress.done} total={progress.total} width={30} /> : null}</Box>
      {result && result.text !== absent ? <Text color={result.ok ? 'green' : 'red'}>{result.text}</Text> : null}
      {question ? (
        <Text color="yellow" wrap="truncate">{question.text}</Text>
      ) : prompt ? (
        <TextPrompt prompt={prompt} />
      ) : (
        <Text dimColor wrap="truncate">i image · g generated · d detect chip · o offset · e erase · a always · w write</Text>
      )}
    </Box>
  );
}
