// The whole screen: tab bar, the focused view (or the help), status line. Sized one row short of the terminal so
// ink updates lines in place instead of clearing the screen on every frame (no flicker). Drawing only: the state
// and the keys live in app-model.ts and the views' models.
import { useEffect, useState } from 'react';
import { Box, Text, useStdout } from 'ink';
import type { AppModel } from '../app-model.js';
import { useStore } from '../store.js';
import { BoardPanel } from './board-panel.js';
import { BoardsView } from './boards-view.js';
import { FilesView } from './files-view.js';
import { FlashView } from './flash-view.js';
import { HelpView } from './help-view.js';
import { ReplPane } from './repl-pane.js';
import { StatusLine, statusHeight } from './status-line.js';
import { TabBar } from './tab-bar.js';

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

export function App({ app }: { app: AppModel }) {
  const { rows, cols } = useTerminalSize();
  const { view, help, scrolledBack, confirmQuit } = useStore(app);
  const link = app.link;
  const [, redraw] = useState(0);
  useEffect(() => link.subscribe(() => redraw((n) => n + 1)), [link]);

  // Rows: tab bar, body, the quit question if asked, status (more than one row for a long message), one left free.
  const bodyHeight = Math.max(3, rows - 2 - statusHeight(link.status, cols) - (confirmQuit ? 1 : 0));
  const port = link.connected ? link.status.port : undefined;
  let body;
  if (help) body = <HelpView height={bodyHeight} />;
  else if (view === 'repl') {
    body = (
      <ReplPane
        lines={link.terminal.tail(bodyHeight + scrolledBack).slice(0, bodyHeight)}
        cursorColumn={link.terminal.cursorColumn}
        height={bodyHeight}
        width={cols}
        scrolledBack={scrolledBack}
        focused
        pausedFor={link.status.activity}
      />
    );
  } else if (view === 'boards') body = <BoardsView model={app.boards} height={bodyHeight} connectedPort={port} />;
  else if (view === 'files') body = <FilesView model={app.files} connected={link.connected} height={bodyHeight} />;
  else if (view === 'flash') body = <FlashView model={app.flash} status={link.status} height={bodyHeight} />;
  else body = <BoardPanel model={app.panel} height={bodyHeight} width={cols} />;
  return (
    <Box flexDirection="column" height={rows - 1} width={cols}>
      <TabBar view={view} help={help} />
      <Box flexDirection="column" height={bodyHeight} overflow="hidden">
        {body}
      </Box>
      {confirmQuit ? <Text color="yellow" wrap="truncate">{confirmQuit} is still running: quit when it ends? (y/N)</Text> : null}
      <StatusLine status={link.status} width={cols} />
    </Box>
  );
}
