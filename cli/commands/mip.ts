// `boardctl mip install PKG…` (mpremote's, with --target, --index, --no-mpy): packages fetched on the host
// (protocol/mip.ts) and copied with the file-transfer code, for boards without a network.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { BoardError } from '../../protocol/errors.js';
import { httpFetcher, mipFiles } from '../../protocol/mip.js';
import { fileResultError, uploadFiles } from '../../protocol/fs/upload.js';

interface MipOpts {
  target?: string;
  index?: string;
  mpy: boolean;
}

export function registerMipCommand(program: Command, ctx: () => CliContext): void {
  const mip = program.command('mip').description('install packages from micropython-lib (or an index like it) onto the board');
  mip
    .command('install <packages...>')
    .description('fetch PKG (a name, NAME@VERSION, a URL, github:org/repo[/path][@branch]) on the host and copy it to the board')
    .option('--target <dir>', 'board folder to install into', '/lib')
    .option('--index <url>', 'package index to use', undefined)
    .option('-m, --mpy', 'install compiled .mpy files where the package has them', true)
    .option('--no-mpy', 'install source .py files instead of compiled .mpy')
    .action(async (packages: string[], opts: MipOpts) => {
      const { out, session } = ctx();
      if (packages.length === 0) throw new BoardError('USAGE', 'mip install: name a package');
      const board = await session.connect();
      const mpy = opts.mpy
        ? Number(await board.eval("getattr(__import__('sys').implementation, '_mpy', 0) & 0xff")) || 'py'
        : 'py';
      for (const spec of packages) {
        const at = spec.lastIndexOf('@');
        const named = at > 0 && !/^(https?|github|gitlab):/.test(spec);
        const files = await mipFiles(named ? spec.slice(0, at) : spec, {
          index: opts.index, target: opts.target, version: named ? spec.slice(at + 1) : undefined, mpy,
        }, httpFetcher, (line) => out.text(line + '\n'));
        const dirs = [...new Set(files.flatMap((f) => parents(f.dest)))];
        const results = await uploadFiles(board, files, dirs);
        const failed = results.filter((r) => !r.ok);
        if (failed.length) throw fileResultError(failed[0]!);
      }
      out.text('Done\n');
      out.doc({ installed: packages });
    });
}

/** Every folder above a board path, outermost first ('/lib/a/b.py' -> '/lib', '/lib/a'). */
function parents(path: string): string[] {
  const parts = path.split('/').slice(1, -1);
  return parts.map((_, i) => '/' + parts.slice(0, i + 1).join('/'));
}
