// Boards: physical ports (with the board guessed from USB ids) and virtual boards; Enter connects.
import { useCallback, useEffect, useState } from 'react';
import { Box, Text, useInput } from 'ink';
import { listPorts } from '../../../protocol/ports.js';
import { createBoard, listBoards } from '../../../emulator/board-store.js';
import type { ProfileName } from '../../../emulator/profiles.js';
import { TextPrompt } from './text-prompt.js';

export interface BoardChoice {
  port: string;
  label: string;
}

/** The default virtual board is always offered: it is created on first connect. */
async function loadChoices(): Promise<BoardChoice[]> {
  const ports = await listPorts().catch(() => []);
  const virtual = listBoards().map((b) => ({ port: `virtual:${b.name}`, label: `virtual board '${b.name}' (${b.config.profile})` }));
  if (!virtual.some((c) => c.port === 'virtual:default')) virtual.unshift({ port: 'virtual:default', label: "virtual board 'default' (esp32)" });
  return [...virtual, ...ports.map((p) => ({ port: p.path, label: [p.board ?? p.product ?? 'serial port', p.vidPid].filter(Boolean).join(' ') }))];
}

export interface BoardsViewProps {
  active: boolean;
  height: number;
  connectedPort?: string;
  onConnect: (port: string) => void;
  onDisconnect: () => void;
}

export function BoardsView({ active, height, connectedPort, onConnect, onDisconnect }: BoardsViewProps) {
  const [choices, setChoices] = useState<BoardChoice[]>([]);
  const [selected, setSelected] = useState(0);
  const [creating, setCreating] = useState(false);
  const [note, setNote] = useState('');
  const refresh = useCallback(() => {
    void loadChoices().then(setChoices, (err: Error) => setNote(err.message));
  }, []);
  useEffect(refresh, [refresh]);

  useInput(
    (input, key) => {
      if (key.upArrow) setSelected((s) => Math.max(0, s - 1));
      else if (key.downArrow) setSelected((s) => Math.min(choices.length - 1, s + 1));
      else if (key.return && choices[selected]) onConnect(choices[selected].port);
      else if (input === 'd') onDisconnect();
      else if (input === 'r') refresh();
      else if (input === 'n') setCreating(true);
    },
    { isActive: active && !creating },
  );

  const create = (text: string) => {
    setCreating(false);
    const [name = '', profile] = text.trim().split(/\s+/);
    try {
      createBoard(name, { profile: (profile || undefined) as ProfileName | undefined });
      setNote(`created virtual board '${name}'`);
      refresh();
    } catch (err) {
      setNote((err as Error).message);
    }
  };

  return (
    <Box flexDirection="column" height={height} overflow="hidden">
      <Text bold>Boards</Text>
      {choices.slice(0, Math.max(1, height - 4)).map((c, i) => (
        <Text key={c.port} inverse={i === selected} wrap="truncate">
          {c.port === connectedPort ? '● ' : '  '}
          {c.port.padEnd(24)} {c.label}
        </Text>
      ))}
      {creating ? (
        <TextPrompt label="new virtual board: NAME [esp32|esp32c3|esp32s3|rp2-pico]" onSubmit={create} onCancel={() => setCreating(false)} />
      ) : (
        <Text dimColor wrap="truncate">↑↓ choose · Enter connect · d disconnect · n new virtual board · r refresh</Text>
      )}
      {note ? <Text wrap="truncate">{note}</Text> : null}
    </Box>
  );
}
