// The whole screen: tab bar, the focused view, status line. Sized one row short of the terminal so ink
// updates lines in place instead of clearing the screen on every frame (no flicker).
import type { EventEmitter } from 'node:events';
import { useEffect, useState, type ReactNode } from 'react';
import { Box, useApp, useInput, useStdout } from 'ink';
import type { BoardLink } from '../board-link.js';
import { nextView, viewAfter, type TuiCommand, type ViewName } from '../key-router.js';
import { openVirtualHw, type VirtualHw } from '../virtual-hw.js';
import { BoardPanel } from './board-panel.js';
import { BoardsView } from './boards-view.js';
import { FilesView } from './files-view.js';
import { FlashView } from './flash-view.js';
import { ReplPane } from './repl-pane.js';
import { StatusLine, statusHeight } from './status-line.js';
import { TabBar } from './tab-bar.js';

export interface AppProps {
  link: BoardLink;
  /** TUI commands (view switches, quit, scrolling) from the key router. */
  commands: EventEmitter;
  localDir: string;
  onView: (view: ViewName) => void;
}

function useTerminalSize(): { rows: number; cols: number } {
  const { stdout } = useStdout();
  const read = () => ({ rows: stdout.rows || 24, cols: stdout.columns || 80 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => void stdout.off('resize', onResize);
  }, [stdout]);
  return size;
}

export function App({ link, commands, localDir, onView }: AppProps) {
  const { exit } = useApp();
  const { rows, cols } = useTerminalSize();
  const [view, setView] = useState<ViewName>('repl');
  const [scrolledBack, setScrolledBack] = useState(0);
  const [hw, setHw] = useState<VirtualHw>();
  const [, redraw] = useState(0);

  useEffect(() => link.subscribe(() => redraw((n) => n + 1)), [link]);
  useEffect(() => {
    onView(view);
  }, [view, onView]);

  const port = link.connected ? link.status.port : undefined;
  useEffect(() => {
    setHw(undefined);
    if (port) void openVirtualHw(port).then(setHw, () => undefined);
  }, [port]);

  useEffect(() => {
    const onCommand = (c: TuiCommand) => {
      setView((v) => viewAfter(v, c));
      if (c.kind === 'quit') exit();
      else if (c.kind === 'scroll') setScrolledBack((s) => Math.max(0, Math.min(link.terminal.lineCount - 1, s + c.lines)));
    };
    commands.on('command', onCommand);
    return () => void commands.off('command', onCommand);
  }, [commands, exit, link]);

  // Outside the REPL pane (where every key belongs to the board) Tab cycles the views and Ctrl-C quits.
  useInput((input, key) => {
    if (key.tab) setView(nextView);
    else if (key.ctrl && input === 'c') exit();
  });

  // Rows: tab bar, body, status (more than one row when a long message is wrapped), and the one left free.
  const bodyHeight = Math.max(3, rows - 2 - statusHeight(link.status, cols));
  const connect = (p: string) => {
    setView('repl');
    void link.connect(p).catch(() => undefined); // the status line shows the error
  };
  // Every view stays mounted (hidden when not focused), so its state and running actions outlive a switch.
  const pane = (name: ViewName, node: ReactNode) => (
    <Box key={name} display={view === name ? 'flex' : 'none'} flexDirection="column" height={bodyHeight} overflow="hidden">
      {node}
    </Box>
  );
  return (
    <Box flexDirection="column" height={rows - 1} width={cols}>
      <TabBar view={view} />
      {pane(
        'repl',
        <ReplPane
          lines={link.terminal.tail(bodyHeight + scrolledBack).slice(0, bodyHeight)}
          cursorColumn={link.terminal.cursorColumn}
          height={bodyHeight}
          width={cols}
          scrolledBack={scrolledBack}
          focused={view === 'repl'}
          pausedFor={link.status.activity}
        />,
      )}
      {pane('boards', <BoardsView active={view === 'boards'} height={bodyHeight} connectedPort={port} onConnect={connect} onDisconnect={() => void link.disconnect()} />)}
      {pane('files', <FilesView link={link} active={view === 'files'} height={bodyHeight} initialDir={localDir} />)}
      {pane('flash', <FlashView link={link} active={view === 'flash'} height={bodyHeight} />)}
      {pane('board', <BoardPanel hw={hw} active={view === 'board'} height={bodyHeight} />)}
      <StatusLine status={link.status} width={cols} />
    </Box>
  );
}
