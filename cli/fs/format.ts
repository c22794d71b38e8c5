// Text output of the fs commands (mpremote's layouts), kept apart from the command wiring so it is testable.
import { formatBytes } from '../../protocol/fs/units.js';
import type { DiskUsage, FsEntry, TreeNode } from '../../protocol/fs/operations.js';

/** `ls`: size right-aligned in 12 columns, directories with a trailing `/`; -l adds the modification time. */
export function formatListing(entries: FsEntry[], long: boolean): string {
  return entries
    .map((e) => {
      const when = long && e.mtime !== undefined ? ` ${new Date(e.mtime * 1000).toISOString().slice(0, 16).replace('T', ' ')}` : '';
      return `${String(e.size).padStart(12)}${when} ${e.name}${e.kind === 'dir' ? '/' : ''}\n`;
    })
    .join('');
}

/** `tree`: box-drawing connectors; -s exact sizes, -h human sizes (directories without a size stay bare). */
export function formatTree(root: TreeNode, sizes: 'none' | 'bytes' | 'human'): string {
  let out = `:${root.name}\n`;
  const walk = (node: TreeNode, prefix: string) => {
    node.children.forEach((child, i) => {
      const last = i === node.children.length - 1;
      let size = '';
      if (sizes !== 'none' && (child.kind === 'file' || child.size > 0)) {
        size = sizes === 'bytes' ? `[${String(child.size).padStart(9)}]  ` : `[${formatBytes(child.size).padStart(6)}]  `;
      }
      out += `${prefix}${last ? '└── ' : '├── '}${size}${child.name}\n`;
      if (child.kind === 'dir') walk(child, prefix + (last ? '    ' : '│   '));
    });
  };
  walk(root, '');
  return out;
}

export function formatDiskUsage(d: DiskUsage): string {
  const pct = d.total ? Math.round((100 * d.used) / d.total) : 0;
  return (
    `${'Size'.padStart(10)} ${'Used'.padStart(10)} ${'Avail'.padStart(10)} ${'Use%'.padStart(5)}  Mounted on\n` +
    `${formatBytes(d.total).padStart(10)} ${formatBytes(d.used).padStart(10)} ${formatBytes(d.free).padStart(10)} ${`${pct}%`.padStart(5)}  ${d.mount}\n`
  );
}
