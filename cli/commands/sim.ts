// `boardctl sim …`: virtual boards — serve one on a pty or TCP, create/list/inspect/remove them, write their
// firmware image, and (sim-hw.ts) poke their simulated hardware.
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliContext } from '../context.js';
import { BoardError } from '../../protocol/errors.js';
import type { ProfileName } from '../../emulator/profiles.js';
import { registerSimHwCommands } from './sim-hw.js';

function parseSize(text: string): number {
  const m = /^(0x[0-9a-f]+|\d+)\s*([km]i?b?)?$/i.exec(text.trim());
  if (!m) throw new BoardError('USAGE', `bad size '${text}': use e.g. 4M, 512K or 0x400000`);
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase()[0];
  return n * (unit === 'm' ? 1 << 20 : unit === 'k' ? 1 << 10 : 1);
}

function parseBaud(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 300) throw new BoardError('USAGE', `bad baud rate '${text}'`);
  return n;
}

/** A profile name as the user typed it, checked; an unknown one is a usage error. */
async function profileOption(text: string): Promise<ProfileName> {
  const { getProfile } = await import('../../emulator/profiles.js');
  try {
    return getProfile(text).name;
  } catch (err) {
    throw new BoardError('USAGE', (err as Error).message);
  }
}

async function createMissing(names: string[], profileName: string): Promise<void> {
  const { createBoard, loadBoard } = await import('../../emulator/board-store.js');
  const profile = await profileOption(profileName);
  for (const name of names) {
    try {
      loadBoard(name);
    } catch (err) {
      if (!(err instanceof BoardError && err.code === 'NO_SUCH_PORT')) throw err;
      createBoard(name, { profile });
    }
  }
}

export function registerSimCommands(program: Command, ctx: () => CliContext): void {
  const sim = program.command('sim').description('virtual boards: serve, create, list, inspect, remove, simulated hardware');

  sim
    .command('serve [names...]')
    .description(
      'run virtual boards on pseudo-terminals (or TCP) for other serial tools; prints one line per board first:' +
        ' "pty: PATH" (with several boards, "pty: PATH NAME")',
    )
    .option('--link <path>', 'also make a symlink to the pty at PATH (one board)')
    .option('--link-dir <dir>', 'also make one symlink per board, DIR/NAME, to its pty')
    .option('--tcp <host:port>', 'serve on raw TCP instead of a pty (host defaults to 127.0.0.1; PORT+ gives several boards consecutive ports)')
    .option('--rfc2217 <host:port>', 'serve RFC 2217 (baud and DTR/RTS, for resets) on TCP instead of a pty (PORT+ as for --tcp)')
    .option('--baud <rate>', 'emulate a UART at this baud rate (8N1) in both directions', parseBaud)
    .option('--create', 'create the boards that do not exist yet (see --profile)')
    .option('--profile <profile>', 'profile of boards made by --create: esp32, esp32c3, esp32s3 or rp2-pico', 'esp32')
    .option('--faults <spec>', 'inject link faults, e.g. drop:1e-4,flip:1e-4,dup:1e-5,delay:1e-4@50,seed=7 (both directions)')
    .option('--offline', 'the boards see no access point and open no host socket')
    .option('--allow <hosts>', 'the boards may reach only these: HOST, HOST:PORT, *.DOMAIN, IP/PREFIX, comma-separated')
    .action(async (names: string[], opts: { link?: string; linkDir?: string; tcp?: string; rfc2217?: string; baud?: number; create?: boolean; profile: string; faults?: string; offline?: boolean; allow?: string }) => {
      const allow = opts.allow?.split(',').map((h) => h.trim()).filter(Boolean);
      if (allow) {
        const { parseAllowEntry } = await import('../../emulator/net/policy.js');
        for (const entry of allow) {
          try {
            parseAllowEntry(entry);
          } catch (err) {
            throw new BoardError('USAGE', `--allow: ${(err as Error).message}`);
          }
        }
      }
      if (opts.tcp && opts.rfc2217) throw new BoardError('USAGE', 'choose one of --tcp and --rfc2217');
      if (opts.faults) (await import('../../protocol/transports/faults.js')).parseFaultSpec(opts.faults); // a bad spec fails before serving
      if (!names.length) names = ['default'];
      // Listening for the stop before anything starts: a SIGTERM right after the first line still closes cleanly.
      const stopped = new Promise<void>((resolve) => {
        if (ctx().signal.aborted) return resolve();
        ctx().signal.addEventListener('abort', () => resolve(), { once: true });
        process.once('SIGTERM', () => resolve());
      });
      if (opts.create) await createMissing(names, opts.profile);
      const { serveBoards } = await import('../../emulator/link/serve.js');
      const served = await serveBoards({ names, ...opts }).catch((err: unknown) => {
        if (err instanceof BoardError && err.code === 'NO_SUCH_PORT') {
          throw new BoardError(err.code, `${err.message}, or serve with --create`, err.details);
        }
        throw err;
      });
      const out = ctx().out;
      const kind = opts.rfc2217 ? 'rfc2217' : 'tcp';
      for (const s of served) {
        const link = s.ptyPath ? `pty: ${s.ptyPath}` : `${kind}: ${s.tcp!.host}:${s.tcp!.port}`;
        out.text(served.length > 1 ? `${link} ${s.board.name}\n` : `${link}\n`);
      }
      const docs = served.map((s) => ({
        board: s.board.name, pty: s.ptyPath, tcp: s.tcp,
        link: opts.linkDir ? join(opts.linkDir, s.board.name) : opts.link,
      }));
      out.doc(docs.length > 1 ? docs : docs[0]);
      // Listening sockets the boards open are published on the host: say where, as they come and go.
      for (const s of served) {
        s.board.net?.setPolicy({ offline: opts.offline, allow });
        s.board.net?.onNotice((n) => {
          if (n.kind === 'refused') return out.note(`${s.board.name}: refused a connection to ${n.host}${n.port ? `:${n.port}` : ''} (${n.why})`);
          out.text(`${n.kind}: ${s.board.name} ${n.proto} port ${n.boardPort} at ${n.host}:${n.hostPort}\n`);
          out.doc({ board: s.board.name, event: n.kind, proto: n.proto, boardPort: n.boardPort, host: n.host, hostPort: n.hostPort });
        });
      }
      const what = served.map((s) => `'${s.board.name}' (${s.board.profile.name})`).join(', ');
      out.note(`serving virtual board${served.length > 1 ? 's' : ''} ${what}; Ctrl-C stops`);
      await stopped;
      await Promise.all(served.map((s) => s.close()));
    });

  sim
    .command('create <name>')
    .description('create a virtual board (flash image with MicroPython and an empty filesystem)')
    .option('--profile <profile>', 'esp32, esp32c3, esp32s3 or rp2-pico', 'esp32')
    .option('--flash-size <size>', 'flash chip size, e.g. 4M (default: the profile\'s)', parseSize)
    .action(async (name: string, opts: { profile: string; flashSize?: number }) => {
      const { createBoard } = await import('../../emulator/board-store.js');
      const b = createBoard(name, { profile: await profileOption(opts.profile), flashSize: opts.flashSize });
      ctx().out.text(`created virtual board '${b.name}' (${b.config.profile}, ${b.config.flashSize >> 20} MB flash) in ${b.dir}\n`);
      ctx().out.doc({ name: b.name, dir: b.dir, ...b.config });
    });

  sim
    .command('list')
    .description('list virtual boards')
    .action(async () => {
      const { scanBoards, lockHolder } = await import('../../emulator/board-store.js');
      const { boards, invalid } = scanBoards();
      const out = ctx().out;
      const docs = boards.map((b) => ({ name: b.name, ...b.config, servedBy: lockHolder(b) }));
      if (!boards.length && !invalid.length) out.text('no virtual boards yet (one named "default" is created on first use)\n');
      for (const b of boards) {
        const holder = lockHolder(b);
        out.text(`${b.name.padEnd(16)} ${b.config.profile.padEnd(9)} ${String(b.config.flashSize >> 20).padStart(3)} MB${holder ? `  in use by pid ${holder}` : ''}\n`);
      }
      // The good boards are listed all the same; each broken one is named, and the exit status says so.
      if (invalid.length) {
        for (const bad of invalid.slice(0, -1)) out.note(`sim list: ${bad.error.message}`);
        const last = invalid.at(-1)!.error;
        throw new BoardError(last.code, last.message, { boards: docs, invalid: invalid.map((i) => ({ name: i.name, message: i.error.message })) });
      }
      out.doc(docs);
    });

  sim
    .command('info <name>')
    .description('show a virtual board\'s profile, flash layout, MAC and unique id')
    .action(async (name: string) => {
      const { loadBoard, lockHolder } = await import('../../emulator/board-store.js');
      const { getProfile, bannerLine } = await import('../../emulator/profiles.js');
      const { accessPoints } = await import('../../emulator/net/config.js');
      const { NetPolicy } = await import('../../emulator/net/policy.js');
      const b = loadBoard(name);
      const p = getProfile(b.config.profile);
      const fs = p.fsRegion(b.config.flashSize);
      const hasNet = p.modules.network === 'here';
      const network = hasNet
        ? { aps: accessPoints(b.config.network).map((ap) => ({ ssid: ap.ssid, key: ap.key, security: ap.security ?? 'open' })), policy: new NetPolicy(b.config.network).describe() }
        : undefined;
      const info = {
        name: b.name, dir: b.dir, profile: p.name, banner: bannerLine(p), flashSize: b.config.flashSize,
        filesystem: { offset: fs.offset, size: fs.size }, mac: b.config.mac, uniqueId: b.config.uniqueId,
        servedBy: lockHolder(b), parts: b.config.parts, network,
      };
      ctx().out.doc(info);
      ctx().out.text(
        [
          `name:        ${info.name}`,
          `profile:     ${info.profile} (${info.banner})`,
          `flash:       ${info.flashSize >> 20} MB, ${b.flashPath}`,
          `filesystem:  littlefs2 at 0x${fs.offset.toString(16)}, ${fs.size >> 10} KiB`,
          `mac:         ${info.mac}`,
          `unique id:   ${info.uniqueId}`,
          `served by:   ${info.servedBy ? `pid ${info.servedBy}` : 'nobody'}`,
          ...(network
            ? [
              ...network.aps.map((ap) => `wifi:        SSID ${JSON.stringify(ap.ssid)}${ap.key !== undefined ? `, key ${JSON.stringify(ap.key)}` : ''} (${ap.security})`),
              `reaches:     ${network.policy}`,
            ]
            : ['wifi:        none (the port has no network)']),
        ].join('\n') + '\n',
      );
    });

  sim
    .command('rm <name>')
    .description('delete a virtual board and its flash image')
    .action(async (name: string) => {
      const { removeBoard } = await import('../../emulator/board-store.js');
      removeBoard(name);
      ctx().out.text(`removed virtual board '${name}'\n`);
      ctx().out.doc({ removed: name });
    });

  sim
    .command('firmware')
    .description('write the virtual board\'s merged firmware image (bootloader, partition table, MicroPython app)')
    .requiredOption('-o, --output <file>', 'where to write the image')
    .option('--profile <profile>', 'esp32, esp32c3 or esp32s3', 'esp32')
    .action(async (opts: { output: string; profile: string }) => {
      const { getProfile } = await import('../../emulator/profiles.js');
      const { firmwareOffset, generateFirmware } = await import('../../emulator/rom/firmware.js');
      const profile = getProfile(opts.profile);
      const image = generateFirmware(profile);
      const offset = firmwareOffset(profile);
      await writeFile(opts.output, image);
      ctx().out.text(`wrote ${image.length} bytes to ${opts.output} (as MicroPython releases it: flash write-flash 0x${offset.toString(16)} ${opts.output})\n`);
      ctx().out.doc({ output: opts.output, bytes: image.length, offset });
    });

  registerSimHwCommands(sim, {
    // Hardware state lives in the running board: a board powered up here just for the request would be gone
    // when this command exits, so an unserved board gets a clear error (from sendControl) instead.
    async control(name, req) {
      const { loadBoard } = await import('../../emulator/board-store.js');
      const { sendControl } = await import('../../emulator/link/control-server.js');
      return sendControl(loadBoard(name).dir, req);
    },
    async openVirtual(name) {
      const { VirtualBoard } = await import('../../emulator/board.js');
      const board = await VirtualBoard.open(name);
      await board.whenReady();
      const transport = board.attach();
      return { transport, control: (req) => board.controlRequest(req), close: () => board.close() };
    },
  });
}
