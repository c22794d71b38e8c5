// `boardctl flash …`: esptool v5's commands and option names over boardctl's transports. Thin: parse,
// read files, call flash/*, print. Progress bars only when stderr is a terminal.
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { BoardError } from '../../protocol/errors.js';
import type { Transport } from '../../protocol/transport.js';
import type { ChipKey } from '../../protocol/esp/chips.js';
import type { FlashMode } from '../../protocol/esp/image.js';
import { parseStubJson } from '../../protocol/esp/stub.js';
import { connectEsp, detectFlashSize, disconnectEsp, type AfterReset, type BeforeReset, type EspSession } from '../../flash/esp-connect.js';
import { dumpMem, readMem, securityInfo, securityReport, writeMem } from '../../flash/chip-memory.js';
import { describeChip, flashId, formatFlashSize, parseSize, readMac } from '../../flash/esp-info.js';
import { flashInput } from '../../flash/input-file.js';
import { readFlash, verifyFlash } from '../../flash/read-flash.js';
import { eraseAll, eraseRegion, writeFlash, type WriteRegion } from '../../flash/write-flash.js';
import { Output } from '../output.js';

export interface FlashDeps {
  /** The session's port: boardctl's -p, or flash's own (esptool's place for it), which the CLI hands to the session. */
  openTransport(opts: { baud?: number }): Promise<Transport>;
  /** Host Ctrl-C; without it write-flash listens for SIGINT itself while it runs. */
  signal?: AbortSignal;
}

interface LinkOptions {
  chip: 'auto' | ChipKey;
  baud?: number;
  before: BeforeReset;
  after: AfterReset;
  /** A stub file, or false for --no-stub. */
  stub?: string | false;
  json?: boolean;
  connectAttempts: number;
  /** false with --no-reset-lines. */
  resetLines?: boolean;
}

/** The ROM loader listens at 115200 after reset; -b switches after SYNC. */
const ROM_BAUD = 115200;
const hex = (n: number, width = 8) => `0x${n.toString(16).padStart(width, '0')}`;

function parseNumber(text: string, what: string): number {
  const n = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text, 16) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw new BoardError('USAGE', `${what} '${text}' is not a number (use decimal or 0x hex)`);
  return n;
}

/** A byte count as esptool takes one (4096, 0x1000, 1MB); `what` names it in the error. */
function sizeArg(text: string, what = 'size'): number {
  const size = parseSize(text);
  if (size === undefined) throw new BoardError('USAGE', `${what} '${text}' is not a byte count`);
  return size;
}

function choice<T extends string>(values: readonly T[], what: string) {
  return (text: string): T => {
    if (!values.includes(text as T)) throw new BoardError('USAGE', `${what} must be one of ${values.join(', ')} (got '${text}')`);
    return text as T;
  };
}

/** "ADDR FILE ADDR FILE …" into regions read from disk; Intel HEX and UF2 files become the binary they describe. */
async function readPairs(args: string[]): Promise<WriteRegion[]> {
  if (args.length === 0 || args.length % 2 !== 0) throw new BoardError('USAGE', 'expected <address> <file> pairs');
  const out: WriteRegion[] = [];
  for (let i = 0; i < args.length; i += 2) {
    const address = parseNumber(args[i], 'address');
    const name = args[i + 1];
    const data = await readFile(name).catch((err: NodeJS.ErrnoException) => {
      throw new BoardError('LOCAL_IO', `${name}: ${err.message}`, { errno: err.code });
    });
    const input = flashInput(address, new Uint8Array(data), name);
    out.push({ address, data: input.data, name, chip: input.chip });
  }
  return out;
}

/** An abort signal for one command: the host's Ctrl-C, from the CLI or from SIGINT while the command runs. */
async function withInterrupt<T>(given: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  if (given) return fn(given);
  const own = new AbortController();
  const onSigint = () => own.abort();
  process.once('SIGINT', onSigint);
  try {
    return await fn(own.signal);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

/** Bytes, rate and ETA on one rewritten stderr line, at most every 100 ms; nothing when not a TTY. */
function progressBar(label: string): { update(done: number, total: number): void; end(): void } {
  if (!process.stderr.isTTY) return { update() {}, end() {} };
  const start = performance.now();
  let last = 0;
  let shown = false;
  return {
    update(done, total) {
      const now = performance.now();
      if (now - last < 100 && done < total) return;
      last = now;
      shown = true;
      const secs = (now - start) / 1000;
      const rate = secs > 0 ? done / secs : 0;
      const eta = rate > 0 ? (total - done) / rate : 0;
      const width = 30;
      const fill = total ? Math.round((done / total) * width) : width;
      process.stderr.write(`\r${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} B ${(rate / 1024).toFixed(1)} KiB/s ETA ${eta.toFixed(0)}s \x1b[K`);
    },
    end() {
      if (shown) process.stderr.write('\n');
    },
  };
}

export function registerFlashCommands(program: Command, deps: FlashDeps): void {
  const flash = program
    .command('flash')
    .description('ESP serial bootloader: esptool commands (chip-id, write-flash, read-flash, …) and image tools')
    .option('-p, --port <port>', "the port, as esptool's -p takes it (the same as boardctl -p PORT flash …)")
    .option('-c, --chip <chip>', 'target chip: auto, esp32, esp32c3, esp32s3', choice(['auto', 'esp32', 'esp32c3', 'esp32s3'] as const, '--chip'), 'auto')
    .option('-b, --baud <rate>', 'baud rate after connecting (CHANGE_BAUDRATE)', (v) => parseNumber(v, '--baud'))
    .option('--before <action>', 'reset before connecting: default-reset, usb-reset, no-reset, no-reset-no-sync', choice(['default-reset', 'usb-reset', 'no-reset', 'no-reset-no-sync'] as const, '--before'), 'default-reset')
    .option('--after <action>', 'after the command: hard-reset, soft-reset, no-reset (a stub returns to the ROM), no-reset-stub, watchdog-reset (C3, S3)', choice(['hard-reset', 'soft-reset', 'no-reset', 'no-reset-stub', 'watchdog-reset'] as const, '--after'), 'hard-reset')
    .option('--stub <file>', "upload and run this flasher stub (esptool's stub JSON); default: ROM loader only")
    .option('--no-stub', "talk to the ROM loader only (esptool's option; the default here)")
    .option('--connect-attempts <n>', 'reset-and-sync rounds', (v) => parseNumber(v, '--connect-attempts'), 7);

  /** Open, connect, run, leave, close: the frame of every command that talks to a chip. */
  const withChip = async <T>(cmd: Command, fn: (s: EspSession, out: Output) => Promise<T>): Promise<T> => {
    const o = cmd.optsWithGlobals<LinkOptions>();
    // --no-reset-lines: esptool's no-reset both ways unless asked otherwise (then the locked lines refuse it).
    if (o.resetLines === false) {
      if (flash.getOptionValueSource('before') === 'default') o.before = 'no-reset';
      if (flash.getOptionValueSource('after') === 'default') o.after = 'no-reset';
    }
    const out = new Output(o.json === true);
    const stub = o.stub ? parseStubJson(await readFile(o.stub, 'utf8'), o.stub) : undefined;
    const transport = await deps.openTransport({ baud: ROM_BAUD });
    try {
      if (transport.baudRate !== ROM_BAUD) await transport.setBaudRate(ROM_BAUD);
      out.note('Connecting...');
      const session = await connectEsp(transport, { chip: o.chip, baud: o.baud, before: o.before, stub, attempts: o.connectAttempts });
      const { description } = await describeChip(session);
      out.note(`Connected to ${session.chip.name}: ${description}`);
      if (session.stubWasRunning) out.note('Stub flasher is already running. No upload is necessary.');
      else if (session.loader.isStub) out.note('Stub flasher running.');
      const result = await fn(session, out);
      if (o.after === 'watchdog-reset') {
        out.note(session.chip.rtcWdt ? 'Hard resetting with a watchdog...' : `warning: Watchdog hard reset is not supported on ${session.chip.name}, attempting classic hard reset instead.`);
      }
      await disconnectEsp(session, o.after);
      return result;
    } finally {
      await transport.close().catch(() => undefined);
    }
  };

  // The ESP32 family has no chip ID register (the id in image headers names the chip type): esptool v5 says so
  // and reads the MAC instead.
  flash.command('chip-id').description('chip type; these chips have no chip ID, so the MAC instead').action(async (_o, cmd: Command) => {
    await withChip(cmd, async (s, out) => {
      const chip = await describeChip(s);
      const mac = await readMac(s);
      out.doc({ command: 'flash chip-id', ok: true, chip: chip.chip, description: chip.description, chipId: null, mac });
      out.note(`warning: ${chip.chip} has no chip ID. Reading MAC address instead.`);
      out.text(`MAC: ${mac}\n`);
    });
  });

  flash.command('flash-id').description('SPI flash manufacturer, device and size').action(async (_o, cmd: Command) => {
    await withChip(cmd, async (s, out) => {
      const r = await flashId(s);
      out.doc({ command: 'flash flash-id', ok: true, ...r });
      out.text(`Manufacturer: ${r.manufacturer.toString(16).padStart(2, '0')}\nDevice: ${r.device.toString(16).padStart(4, '0')}\nDetected flash size: ${r.size ? formatFlashSize(r.size) : 'Unknown'}\n`);
    });
  });

  flash.command('read-mac').description('factory MAC address from eFuse').action(async (_o, cmd: Command) => {
    await withChip(cmd, async (s, out) => {
      const mac = await readMac(s);
      out.doc({ command: 'flash read-mac', ok: true, mac });
      out.text(`MAC: ${mac}\n`);
    });
  });

  headerOptions(
    flash
      .command('write-flash')
      .description('write files to flash: <address> <file> pairs')
      .argument('<address-file...>', 'address and file, repeated')
      .option('-e, --erase-all', 'erase the whole flash first')
      .option('-z, --compress', 'send deflate-compressed data (the default)')
      .option('-u, --no-compress', 'send data uncompressed'),
    'keep, detect, 1MB..128MB',
  )
    .option('--no-skip-unchanged', 'write regions even when their MD5 already matches')
    .option('--force', 'write images built for another chip')
    .option('--window <n>', 'data blocks sent ahead of their answers (default 2; 1 waits for each, as esptool)', (v) => parseNumber(v, '--window'))
    .action(async (pairs: string[], o: HeaderOptions & { eraseAll?: boolean; compress: boolean; skipUnchanged: boolean; force?: boolean; window?: number }, cmd: Command) => {
      const regions = await readPairs(pairs);
      await withInterrupt(deps.signal, (signal) => withChip(cmd, async (s, out) => {
        const started = new Map<number, number>();
        let bar = progressBar('Writing');
        const results = await writeFlash(s, regions, {
          compress: o.compress, eraseAll: o.eraseAll, flashMode: o.flashMode, flashFreq: o.flashFreq, flashSize: o.flashSize,
          skipUnchanged: o.skipUnchanged, force: o.force, window: o.window, signal,
          onProgress: (p) => {
            if (!started.has(p.region)) {
              bar.end();
              bar = progressBar(`Writing at ${hex(p.address)}`);
              started.set(p.region, performance.now());
            }
            bar.update(p.done, p.total);
          },
        }).finally(() => bar.end());
        out.doc({ command: 'flash write-flash', ok: true, regions: results });
        for (const r of results) {
          for (const w of r.warnings) out.note(`warning: ${w}`);
          if (r.patched) out.text(`Flash parameters set in the bootloader header at ${hex(r.address)}.\n`);
          if (r.skipped) {
            out.text(`Skipped ${hex(r.address)} (${r.size} bytes): already in flash, MD5 matches.\n`);
            continue;
          }
          const compressed = r.compressedSize !== undefined ? ` (${r.compressedSize} compressed)` : '';
          out.text(`Wrote ${r.size} bytes${compressed} at ${hex(r.address)}.\nHash of data verified.\n`);
        }
      }));
    });

  flash
    .command('verify-flash')
    .description('compare flash with files by MD5: <address> <file> pairs')
    .argument('<address-file...>', 'address and file, repeated')
    .option('--diff <yes|no>', 'list differing addresses on mismatch', choice(['yes', 'no'] as const, '--diff'), 'no')
    .action(async (pairs: string[], o: { diff: 'yes' | 'no' }, cmd: Command) => {
      const regions = await readPairs(pairs);
      await withChip(cmd, async (s, out) => {
        const results = await verifyFlash(s, regions, { diff: o.diff === 'yes' });
        out.doc({ command: 'flash verify-flash', ok: true, regions: results });
        for (const r of results) out.text(`Verifying ${r.size} bytes at ${hex(r.address)} against ${r.name}... -- verify OK (digest matched)\n`);
      });
    });

  flash
    .command('read-flash')
    .description('read flash to a file')
    .argument('<address>', 'start address')
    .argument('<size>', 'byte count (4096, 0x1000, 1MB) or ALL')
    .argument('<file>', 'output file')
    .action(async (addrText: string, sizeText: string, file: string, _o, cmd: Command) => {
      const address = parseNumber(addrText, 'address');
      await withChip(cmd, async (s, out) => {
        let size: number;
        if (sizeText.toUpperCase() === 'ALL') {
          const total = await detectFlashSize(s);
          if (!total) throw new BoardError('BOOTLOADER', 'the flash size could not be detected; give the size instead of ALL');
          size = total - address;
        } else size = sizeArg(sizeText);
        const bar = progressBar('Reading');
        const data = await readFlash(s, address, size, (d, t) => bar.update(d, t));
        bar.end();
        await writeFile(file, data);
        out.doc({ command: 'flash read-flash', ok: true, address, size, file });
        out.text(`Read ${size} bytes at ${hex(address)} into ${file}.\n`);
      });
    });

  flash
    .command('read-mem')
    .description('read a 32-bit word of the chip\'s memory or registers')
    .argument('<address>', 'word address')
    .action(async (addrText: string, _o, cmd: Command) => {
      const address = parseNumber(addrText, 'address');
      await withChip(cmd, async (s, out) => {
        const value = await readMem(s, address);
        out.doc({ command: 'flash read-mem', ok: true, address, value });
        out.text(`${hex(address)} = ${hex(value)}\n`);
      });
    });

  flash
    .command('write-mem')
    .description('write a 32-bit word of the chip\'s memory or registers, only the bits in MASK')
    .argument('<address>', 'word address')
    .argument('<value>', '32-bit value')
    .argument('[mask]', 'bits to change', '0xffffffff')
    .action(async (addrText: string, valueText: string, maskText: string, _o, cmd: Command) => {
      const address = parseNumber(addrText, 'address');
      const value = parseNumber(valueText, 'value');
      const mask = parseNumber(maskText, 'mask');
      if (value > 0xffffffff || mask > 0xffffffff) throw new BoardError('USAGE', 'value and mask are 32-bit words (at most 0xffffffff)');
      await withChip(cmd, async (s, out) => {
        await writeMem(s, address, value, mask);
        out.doc({ command: 'flash write-mem', ok: true, address, value, mask });
        out.text(`Wrote ${hex(value)} with mask ${hex(mask)} to ${hex(address)}.\n`);
      });
    });

  flash
    .command('dump-mem')
    .description('read a range of the chip\'s memory to a file, a word at a time')
    .argument('<address>', 'start word address')
    .argument('<size>', 'byte count, whole words')
    .argument('<file>', 'output file')
    .action(async (addrText: string, sizeText: string, file: string, _o, cmd: Command) => {
      const address = parseNumber(addrText, 'address');
      const size = sizeArg(sizeText);
      await withChip(cmd, async (s, out) => {
        out.note(`Dumping ${size} bytes from ${hex(address)} to file '${file}'...`);
        const t0 = performance.now();
        const bar = progressBar('Dumping');
        const data = await dumpMem(s, address, size, (d, t) => bar.update(d, t));
        bar.end();
        const secs = (performance.now() - t0) / 1000;
        await writeFile(file, data).catch((err: NodeJS.ErrnoException) => {
          throw new BoardError('LOCAL_IO', `${file}: ${err.message}`, { errno: err.code });
        });
        out.doc({ command: 'flash dump-mem', ok: true, address, size, file });
        out.text(`Dumped ${size} bytes from ${hex(address)} in ${secs.toFixed(1)} seconds (${((size * 8) / 1000 / secs).toFixed(1)} kbit/s) to '${file}'.\n`);
      });
    });

  flash.command('get-security-info').description('secure boot, flash encryption and key purposes (C3, S3)').action(async (_o, cmd: Command) => {
    await withChip(cmd, async (s, out) => {
      const info = await securityInfo(s);
      out.doc({ command: 'flash get-security-info', ok: true, ...info });
      out.text(`${securityReport(info).join('\n')}\n`);
    });
  });

  flash.command('erase-flash').description('erase the whole flash').action(async (_o, cmd: Command) => {
    await withChip(cmd, async (s, out) => {
      await eraseAll(s);
      out.doc({ command: 'flash erase-flash', ok: true });
      out.text('Flash memory erased successfully.\n');
    });
  });

  flash
    .command('erase-region')
    .description('erase a range of whole 4 KiB sectors')
    .argument('<address>', 'start address (multiple of 0x1000)')
    .argument('<size>', 'byte count (multiple of 0x1000)')
    .action(async (addrText: string, sizeText: string, _o, cmd: Command) => {
      const address = parseNumber(addrText, 'address');
      const size = sizeArg(sizeText);
      await withChip(cmd, async (s, out) => {
        await eraseRegion(s, address, size);
        out.doc({ command: 'flash erase-region', ok: true, address, size });
        out.text(`Erased ${size} bytes at ${hex(address)}.\n`);
      });
    });

  flash
    .command('image-info')
    .description('describe a firmware file (ESP image, partition table, merged image, UF2, Intel HEX)')
    .argument('<file>')
    .action(async (file: string, _o, cmd: Command) => {
      const o = cmd.optsWithGlobals<{ json?: boolean }>();
      const out = new Output(o.json === true);
      const { imageInfo, formatImageInfo } = await import('../../flash/image-info.js');
      const info = imageInfo(new Uint8Array(await readFile(file)), file);
      out.doc({ command: 'flash image-info', ok: true, ...info });
      out.text(`${formatImageInfo(info)}\n`);
    });

  headerOptions(
    flash
      .command('merge-bin')
      .description('merge <address> <file> pairs into one image')
      .argument('<address-file...>', 'address and file, repeated')
      .requiredOption('-o, --output <file>', 'output file')
      .option('-f, --format <format>', 'raw, uf2 or hex', choice(['raw', 'uf2', 'hex'] as const, '--format'), 'raw')
      .option('--pad-to-size <size>', 'raw: pad with 0xFF to this flash size (e.g. 4MB)')
      .option('-t, --target-offset <address>', 'raw: flash address the output starts at'),
    'keep, 1MB..128MB',
  ).action(async (pairs: string[], o: MergeOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ json?: boolean; chip: string }>();
      const out = new Output(g.json === true);
      const { mergeBin } = await import('../../flash/merge-bin.js');
      const parts = (await readPairs(pairs)).map((r) => ({ offset: r.address, data: r.data, name: r.name }));
      const pad = o.padToSize === undefined ? undefined : sizeArg(o.padToSize, '--pad-to-size');
      if (o.flashSize === 'detect') throw new BoardError('USAGE', '--flash-size detect needs a chip to ask; give the size, or keep');
      const merged = mergeBin(parts, {
        format: o.format, padToSize: pad, chip: g.chip === 'auto' ? undefined : g.chip,
        targetOffset: o.targetOffset === undefined ? undefined : parseNumber(o.targetOffset, '--target-offset'),
        flash: { flashMode: o.flashMode, flashFreq: o.flashFreq, flashSize: o.flashSize },
        onWarning: (w) => out.note(`warning: ${w}`),
      });
      await writeFile(o.output, merged);
      out.doc({ command: 'flash merge-bin', ok: true, output: o.output, size: merged.length });
      out.text(`Wrote ${merged.length} bytes to ${o.output}.\n`);
    });
}

/** esptool's --flash-mode, --flash-freq and --flash-size: what to set in the bootloader image's header ('keep' leaves it). */
interface HeaderOptions {
  flashMode: FlashMode | 'keep';
  flashFreq: string;
  flashSize: string;
}

function headerOptions(cmd: Command, sizes: string): Command {
  return cmd
    .option('--flash-mode <mode>', 'header flash mode: keep, qio, qout, dio, dout', choice(['keep', 'qio', 'qout', 'dio', 'dout'] as const, '--flash-mode'), 'keep')
    .option('--flash-freq <freq>', 'header flash frequency: keep, 80m, 40m, 26m, 20m', 'keep')
    .option('--flash-size <size>', `header flash size: ${sizes}`, 'keep');
}

interface MergeOptions extends HeaderOptions {
  output: string;
  format: 'raw' | 'uf2' | 'hex';
  padToSize?: string;
  targetOffset?: string;
}
