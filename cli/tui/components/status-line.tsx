// The bottom line: port, baud, link mode, board and MicroPython version, and what is going on.
import { Box, Text } from 'ink';
import type { LinkMode, LinkStatus } from '../board-link.js';
import { ProgressBar } from './progress-bar.js';

const MODE_COLOR: Record<LinkMode, string> = { disconnected: 'gray', friendly: 'green', raw: 'yellow', bootloader: 'magenta' };

export function StatusLine({ status }: { status: LinkStatus }) {
  const board = [status.board, status.version && `MicroPython ${status.version}`].filter(Boolean).join(' · ');
  return (
    <Box height={1} overflow="hidden">
      <Text wrap="truncate">
        <Text inverse color={MODE_COLOR[status.mode]}> {status.mode} </Text>
        {status.port ? ` ${status.port}` : ' no board'}
        {status.baud ? ` ${status.baud}` : ''}
        {board ? ` │ ${board}` : ''}
        {status.activity ? <Text color="yellow"> │ {status.activity} </Text> : null}
        {status.progress ? <ProgressBar done={status.progress.done} total={status.progress.total} width={12} /> : null}
        {!status.activity && status.message ? <Text color={status.error ? 'red' : undefined}> │ {status.message}</Text> : null}
      </Text>
    </Box>
  );
}
