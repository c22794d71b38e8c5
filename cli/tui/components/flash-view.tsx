// Flash: choose an image, see the detected chip and the offset it wants, optional erase, progress, verify.
// Like `flash write-flash`, a region the flash already holds is skipped unless the user asks to always write.
// Results also go to the status line, so one that arrives while another view is focused is seen there.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { useState } from 'react';
import { Box, Text, useInput } from 'ink';
import type { BoardLink } from '../board-link.js';
import { detectChip, flashImage, generatedImage, loadImage, suggestedOffset, type ChipFacts, type FlashImage } from '../flash-actions.js';
import { ProgressBar } from './progress-bar.js';
import { TextPrompt } from './text-prompt.js';

const hex = (n: number) => `0x${n.toString(16)}`;

export interface FlashViewProps {
  link: BoardLink;
  active: boolean;
  height: number;
}

export function FlashView({ link, active, height }: FlashViewProps) {
  const [image, setImage] = useState<FlashImage>();
  const [chip, setChip] = useState<ChipFacts>();
  const [offsetOverride, setOffsetOverride] = useState<number>();
  const [erase, setErase] = useState(false);
  const [always, setAlways] = useState(false);
  const [prompt, setPrompt] = useState<'image' | 'offset'>();
  const [result, setResult] = useState<{ text: string; ok: boolean }>();
  const [busy, setBusy] = useState(false);

  const offset = offsetOverride ?? (image && chip ? suggestedOffset(image.info, chip.bootloaderOffset) : undefined);

  const run = (action: () => Promise<string>) => {
    setBusy(true);
    setResult(undefined);
    void action()
      .then((text) => ({ text, ok: true }), (err: Error) => ({ text: err.message, ok: false }))
      .then((r) => {
        setResult(r);
        link.report(r.text, !r.ok);
      })
      .finally(() => setBusy(false));
  };

  const write = (img: FlashImage) =>
    run(async () => {
      const out = await flashImage(link, img, { offset, erase, skipUnchanged: !always });
      setChip(out);
      const lines = out.results.map((r) =>
        r.skipped ? `${r.size} bytes at ${hex(r.address)} on ${out.chip}: skipped, already in flash` : `Wrote ${r.size} bytes at ${hex(r.address)} to ${out.chip}; hash of data verified`,
      );
      return lines.join('\n');
    });

  useInput(
    (input) => {
      if (input === 'g') run(async () => (setImage(await generatedImage(link.status.port ?? 'virtual')), 'generated firmware loaded'));
      else if (input === 'i') setPrompt('image');
      else if (input === 'o') setPrompt('offset');
      else if (input === 'e') setErase((e) => !e);
      else if (input === 'a') setAlways((a) => !a);
      else if (input === 'd') run(async () => (setChip(await detectChip(link)), 'chip detected'));
      else if (input === 'w' && image) write(image);
    },
    { isActive: active && !prompt && !busy },
  );

  const submit = (value: string) => {
    const kind = prompt;
    setPrompt(undefined);
    if (kind === 'offset') {
      const n = Number(value.trim());
      if (value.trim() === '') setOffsetOverride(undefined);
      else if (Number.isInteger(n) && n >= 0) setOffsetOverride(n);
      else setResult({ text: `not an offset: ${value}`, ok: false });
    } else if (kind === 'image') {
      run(async () => (setImage(loadImage(basename(value), await readFile(value))), `loaded ${value}`));
    }
  };

  const progress = link.status.mode === 'bootloader' ? link.status.progress : undefined;
  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <Text bold>Flash</Text>
      <Text wrap="truncate">image:  {image ? `${image.name} (${image.info.kind}, ${image.data.length} bytes)` : 'none (i choose a file, g generated firmware)'}</Text>
      <Text wrap="truncate">chip:   {chip ? `${chip.chip} (bootloader at ${hex(chip.bootloaderOffset)})` : 'not detected yet (d detect)'}</Text>
      <Text wrap="truncate">offset: {offset === undefined ? 'from the detected chip' : hex(offset)}{offsetOverride === undefined ? '' : ' (set by you)'}</Text>
      <Text>erase:  {erase ? 'whole flash first' : 'no'}</Text>
      <Text>write:  {always || erase ? 'always' : 'skip what the flash already holds'}</Text>
      <Box height={1}>{busy ? <Text color="yellow">{link.status.activity ?? 'working'} </Text> : null}{progress ? <ProgressBar done={progress.done} total={progress.total} width={30} /> : null}</Box>
      {result ? <Text color={result.ok ? 'green' : 'red'}>{result.text}</Text> : null}
      {prompt ? (
        <TextPrompt label={prompt === 'image' ? 'image file' : 'offset (empty: suggested)'} onSubmit={submit} onCancel={() => setPrompt(undefined)} />
      ) : (
        <Text dimColor wrap="truncate">i image · g generated · d detect chip · o offset · e erase · a always · w write</Text>
      )}
    </Box>
  );
}
