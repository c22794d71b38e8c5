// `devs`: the serial ports on this machine with USB identity and a board guess.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerDevsCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('devs')
    .description('list serial ports (path, VID:PID, serial number, manufacturer, product, board guess)')
    .action(async () => {
      const c = ctx();
      const { listPorts } = await import('../../protocol/ports.js');
      const ports = await listPorts();
      c.out.doc({ command: 'devs', ok: true, ports });
      for (const p of ports) {
        const fields = [p.path, p.vidPid ?? '-', p.serialNumber ?? '-', p.manufacturer ?? '-', p.product ?? '-'];
        c.out.text(`${fields.join(' ')}${p.board ? `  (${p.board})` : ''}\n`);
      }
      if (ports.length === 0) c.out.note('no serial ports found (the virtual board is always available as "virtual")');
    });
}
