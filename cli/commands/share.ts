// `boardctl share PORT --rfc2217 [HOST:]PORT`: a serial port (a USB board, or a virtual board's pty) served to
// one network client at a time, with baud rate and the DTR/RTS lines that reset an ESP32 into its bootloader,
// as esptool's esp_rfc2217_server does. `esptool --port rfc2217://…` and `boardctl -p rfc2217://…` reach it.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { BoardError } from '../../protocol/errors.js';

export function registerShareCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('share <port>')
    .description('serve a serial port over RFC 2217 (baud, DTR/RTS resets, purge, flow control) or raw TCP, one client at a time; prints "rfc2217: HOST:PORT" first')
    .option('--rfc2217 <[host:]port>', 'serve RFC 2217 here (host defaults to 127.0.0.1; 0 picks a free port)')
    .option('--tcp <[host:]port>', 'serve raw bytes instead (socket://), without line control')
    .action(async (path: string, opts: { rfc2217?: string; tcp?: string }) => {
      if (!opts.rfc2217 === !opts.tcp) throw new BoardError('USAGE', 'share needs one of --rfc2217 [HOST:]PORT and --tcp [HOST:]PORT');
      const [{ parsePortSpec }, { openSerialTransport }, { listPorts }, { DEFAULT_BAUD }, server, { serveRfc2217 }] = await Promise.all([
        import('../../protocol/port-spec.js'),
        import('../../protocol/transports/serial.js'),
        import('../../protocol/ports.js'),
        import('../../protocol/connect.js'),
        import('../../protocol/port-server.js'),
        import('../../protocol/rfc2217-server.js'),
      ]);
      const spec = parsePortSpec(path);
      if (spec.kind !== 'serial') {
        throw new BoardError('USAGE', `${spec.path}: share serves a serial device or pty (for a virtual board: boardctl sim serve NAME --rfc2217 …)`);
      }
      const stopped = new Promise<void>((resolve) => {
        if (ctx().signal.aborted) return resolve();
        ctx().signal.addEventListener('abort', () => resolve(), { once: true });
        process.once('SIGTERM', () => resolve());
      });
      const port = await openSerialTransport(spec.path, {
        baudRate: ctx().session.baudRate ?? DEFAULT_BAUD,
        listPorts: async () => (await listPorts()).map((p) => p.path),
      });
      const lost = new Promise<Error | undefined>((resolve) => port.onClose(resolve));
      try {
        const { host, port: tcpPort } = server.parseListenAddress((opts.rfc2217 ?? opts.tcp)!);
        const shared = await server.sharePort(port, {
          host,
          port: tcpPort,
          serve: opts.rfc2217 ? (sock, p) => serveRfc2217(sock, p, { linesPerClient: true, noFlowControl: true }) : undefined,
        });
        const kind = opts.rfc2217 ? 'rfc2217' : 'tcp';
        const address = `${shared.address.address}:${shared.address.port}`;
        const out = ctx().out;
        out.text(`${kind}: ${address}\n`);
        out.doc({ port: spec.path, [kind]: { host: shared.address.address, port: shared.address.port } });
        out.note(`sharing ${spec.path} (one client at a time; ${kind === 'rfc2217' ? `rfc2217://${address}` : `socket://${address}`}); Ctrl-C stops`);
        const err = await Promise.race([stopped.then(() => undefined), lost]);
        await shared.close();
        if (err) throw err;
      } finally {
        await port.close();
      }
    });
}
