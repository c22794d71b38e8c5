// cli/may-be-virtual.ts: the cheap test before the early start. It may say "maybe" for a board that is not virtual
// (the early start then decides), never "no" for one that is. Real config files in a temp directory.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mayBeVirtual } from '../cli/may-be-virtual.js';

const tmp = mkdtempSync(join(tmpdir(), 'boardctl-may-be-virtual-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A user config dir and a project dir, each with the given config (undefined: no file). */
function place(user: unknown, project: unknown): { env: NodeJS.ProcessEnv; cwd: string } {
  const dir = mkdtempSync(join(tmp, 'case-'));
  mkdirSync(join(dir, 'xdg', 'boardctl'), { recursive: true });
  mkdirSync(join(dir, 'project', 'src'), { recursive: true });
  if (user !== undefined) writeFileSync(join(dir, 'xdg', 'boardctl', 'config.json'), JSON.stringify(user));
  if (project !== undefined) writeFileSync(join(dir, 'project', 'boardctl.json'), JSON.stringify(project));
  return { env: { XDG_CONFIG_HOME: join(dir, 'xdg') }, cwd: join(dir, 'project', 'src') };
}

describe('mayBeVirtual', () => {
  it('says no for a command line, environment and configs that never name a virtual board', () => {
    const none = place(undefined, undefined);
    expect(mayBeVirtual(['-p', '/dev/ttyUSB0', 'exec', 'pass'], none)).toBe(false);
    expect(mayBeVirtual(['exec', 'pass'], { ...none, env: { ...none.env, BOARDCTL_PORT: 'u0' } })).toBe(false);
    expect(mayBeVirtual(['-p', 'kitchen', 'exec', 'pass'], place({ boards: { kitchen: 'rfc2217://10.0.0.5:4000' } }, { port: 'a0' }))).toBe(false);
    expect(mayBeVirtual(['connect', '/dev/ttyACM0', 'ls'], none)).toBe(false);
  });

  it('says maybe, on Linux, for a command line that names no port: auto-detection may take the virtual board', () => {
    const none = place(undefined, undefined);
    const linux = process.platform === 'linux';
    expect(mayBeVirtual(['exec', 'pass'], none)).toBe(linux);
    expect(mayBeVirtual([], none)).toBe(linux);
    expect(mayBeVirtual(['ls', ':'], place(undefined, { port: '/dev/ttyUSB0' }))).toBe(linux); // (the early start reads the config)
  });

  it('says maybe wherever a port can come from: the arguments, $BOARDCTL_PORT, either config file', () => {
    const none = place(undefined, undefined);
    expect(mayBeVirtual(['-p', 'virtual', 'exec', 'pass'], none)).toBe(true);
    expect(mayBeVirtual(['--port=virtual:b', 'exec', 'pass'], none)).toBe(true);
    expect(mayBeVirtual(['exec', 'x', '+', 'connect', 'virtual:c'], none)).toBe(true);
    expect(mayBeVirtual(['exec', 'pass'], { ...none, env: { ...none.env, BOARDCTL_PORT: 'virtual:e' } })).toBe(true);
    // A board name, the config's port, a macro; in the user's file or the project's (found from a subfolder).
    expect(mayBeVirtual(['-p', 'kitchen', 'exec', 'pass'], place({ boards: { kitchen: 'virtual:k' } }, undefined))).toBe(true);
    expect(mayBeVirtual(['exec', 'pass'], place(undefined, { port: 'virtual' }))).toBe(true);
    expect(mayBeVirtual(['try'], place(undefined, { commands: { try: 'connect virtual:t exec pass' } }))).toBe(true);
    // The word spelled with a JSON escape still counts.
    const escaped = place(undefined, undefined);
    writeFileSync(join(escaped.cwd, '..', 'boardctl.json'), '{"port": "\\u0076irtual"}');
    expect(mayBeVirtual(['exec', 'pass'], escaped)).toBe(true);
  });
});
