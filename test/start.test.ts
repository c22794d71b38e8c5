// Start-up: the BOARDCTL_DEBUG=timing trace, and what a command loads. (Speed goals live in bench/cli, not here.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './helpers/built-cli.js';
import { boardctl } from './helpers/boardctl.js';
import { servePeer, type PeerServer } from './helpers/scripted-peer.js';

const TRACE = /^boardctl timing: +(\d+\.\d) ms +\+(\d+\.\d) ms {2}(.+)$/;

/** The trace lines of a run's stderr, as [ms since start, label]. */
function trace(stderr: string): Array<[number, string]> {
  return stderr
    .split('\n')
    .map((l) => TRACE.exec(l))
    .filter((m) => m !== null)
    .map((m) => [Number(m[1]), m[3]]);
}

let server: PeerServer;
beforeAll(async () => {
  await ensureBuilt();
  server = await servePeer();
}, 180_000);
afterAll(() => server?.close());

describe('BOARDCTL_DEBUG=timing', () => {
  it('prints each phase of a command, in order, with times that only grow', async () => {
    const run = await boardctl(['-p', server.url, 'exec', "print('hi')"], { BOARDCTL_DEBUG: 'timing' });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('hi\r\n');
    const lines = trace(run.stderr);
    // Nothing else on stderr: the trace is the only addition.
    expect(run.stderr.trim().split('\n')).toHaveLength(lines.length);
    expect(lines.map(([, label]) => label)).toEqual([
      'node started, CLI modules loaded',
      'connection modules loaded',
      expect.stringMatching(/^port open \(socket socket:\/\/127\.0\.0\.1:\d+\)$/),
      'raw REPL entered (1 attempt)',
      'soft reset',
      'exec',
      'link closed',
    ]);
    const times = lines.map(([ms]) => ms);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('is silent without it, and with other debug words', async () => {
    for (const env of [{}, { BOARDCTL_DEBUG: '1' }] as Array<Record<string, string>>) {
      const run = await boardctl(['-p', server.url, 'exec', 'pass'], env);
      expect(run).toMatchObject({ code: 0, stderr: '' });
    }
    const both = await boardctl(['-p', server.url, 'resume', 'exec', 'pass'], { BOARDCTL_DEBUG: '1,timing' });
    expect(trace(both.stderr).map(([, l]) => l)).not.toContain('soft reset');
    expect(trace(both.stderr).map(([, l]) => l)).toContain('exec');
  });
});
