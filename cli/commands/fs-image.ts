// `boardctl fs image build|ls|extract|check`: littlefs images on the host. Thin wiring over
// emulator/littlefs/image-tools.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BoardError } from '../../protocol/errors.js';
import { fileError } from '../../protocol/host-error.js';
import type { ImageSummary } from '../../emulator/littlefs/image-tools.js';
import { Output } from '../output.js';

interface ImageOpts {
  blockSize?: string;
}

function output(cmd: Command): Output {
  return new Output(cmd.optsWithGlobals<{ json?: boolean }>().json === true);
}

/** The littlefs code loads only when an image command runs (boardctl --help stays fast). */
const imageTools = () => import('../../emulator/littlefs/image-tools.js');

async function blockSize(opts: ImageOpts): Promise<number | undefined> {
  return opts.blockSize === undefined ? undefined : (await imageTools()).parseSize(opts.blockSize);
}

function readImage(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw fileError(path, err);
  }
}

const describeSummary = (s: ImageSummary) =>
  `${s.files} files, ${s.dirs} dirs, ${s.bytes} bytes; ${s.blocksUsed}/${s.blockCount} blocks of ${s.blockSize} used`;

export function registerFsImageCommands(fsCommand: Command): Command {
  const image = fsCommand.command('image').description('build, list, extract and check littlefs images on the host');

  image
    .command('build')
    .description('make a littlefs image (as MicroPython VfsLfs2 formats it) from a folder')
    .argument('<dir>', 'folder whose contents become the filesystem root')
    .requiredOption('-o, --output <file>', 'image file to write')
    .requiredOption('--size <size>', 'image size: bytes, 512K, 2M, 0x200000')
    .option('--block-size <size>', 'erase block size', '4096')
    .action(async (dir: string, opts: ImageOpts & { output: string; size: string }, cmd: Command) => {
      const out = output(cmd);
      const { buildImage, parseSize } = await imageTools();
      const built = buildImage(dir, { size: parseSize(opts.size), blockSize: await blockSize(opts) });
      try {
        writeFileSync(opts.output, built.image);
      } catch (err) {
        throw fileError(opts.output, err);
      }
      for (const s of built.skipped) out.note(`skipped ${s} (not a file or folder)`);
      out.text(`built ${opts.output}: ${describeSummary(built.summary)}\n`);
      out.doc({ image: opts.output, ...built.summary, skipped: built.skipped });
    });

  image
    .command('ls')
    .description('list every file and folder in an image')
    .argument('<image>', 'image file')
    .option('--block-size <size>', 'erase block size (default: read from the superblock)')
    .action(async (file: string, opts: ImageOpts, cmd: Command) => {
      const out = output(cmd);
      const { entries, summary } = (await imageTools()).listImage(readImage(file), await blockSize(opts));
      for (const e of entries) out.text(`${e.type === 'dir' ? '-'.padStart(10) : String(e.size).padStart(10)}  ${e.path}${e.type === 'dir' ? '/' : ''}\n`);
      out.text(`${describeSummary(summary)}\n`);
      out.doc({ entries, ...summary });
    });

  image
    .command('extract')
    .description('copy an image\'s files into a host folder')
    .argument('<image>', 'image file')
    .argument('<dir>', 'destination folder (created if missing)')
    .option('--block-size <size>', 'erase block size (default: read from the superblock)')
    .action(async (file: string, dir: string, opts: ImageOpts, cmd: Command) => {
      const out = output(cmd);
      const summary = (await imageTools()).extractImage(readImage(file), dir, await blockSize(opts));
      out.text(`extracted ${summary.files} files, ${summary.dirs} dirs (${summary.bytes} bytes) to ${dir}\n`);
      out.doc({ dest: dir, ...summary });
    });

  image
    .command('check')
    .description('mount an image, read everything, and report structural problems')
    .argument('<image>', 'image file')
    .option('--block-size <size>', 'erase block size (default: read from the superblock)')
    .action(async (file: string, opts: ImageOpts, cmd: Command) => {
      const out = output(cmd);
      const r = (await imageTools()).checkImage(readImage(file), await blockSize(opts));
      if (!r.ok) {
        for (const p of r.problems.slice(0, -1)) out.error(`${p}\n`);
        throw new BoardError('FS_CORRUPT', r.problems.at(-1)!, { problems: r.problems });
      }
      out.text(`ok: littlefs ${r.version}, ${describeSummary(r)}\n`);
      out.doc(r);
    });

  return image;
}
