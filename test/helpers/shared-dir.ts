// Where the fixtures that are not part of the project live: ../shared beside the repository (MicroPython's test
// suite, real firmware for qemu, ESP-IDF images), or BOARDCTL_SHARED, e.g. for a worktree. Tests that need them
// skip with a message where they are absent.
import { basename, dirname, join, resolve } from 'node:path';

// The repository, from the source (vitest) or from its build under dist/ (bench scripts).
const here = resolve(import.meta.dirname, '../..');
export const projectRoot = basename(here) === 'dist' ? dirname(here) : here;

/** fixtures/NAME of the shared folder. */
export function sharedFixture(name: string): string {
  return join(process.env.BOARDCTL_SHARED ?? resolve(projectRoot, '../shared'), 'fixtures', name);
}
