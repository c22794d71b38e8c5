#!/usr/bin/env node
// The boardctl binary, dist/cli/boardctl.cjs (CommonJS: a command reaches its code without Node's ES module
// loader). A command runs the CLI bundle dist/cli/main.cjs with its code cache (cli/code-cache.ts); a bare
// `boardctl` is the TUI, which stays an ES module (ink has top-level await): dist/cli/main.js.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cacheFile, runBundle } from './code-cache.js';

/** What a run compiles depends on its command: the first two words that can be command names ("exec", "fs ls"). */
const kindOf = (argv: string[]) =>
  argv
    .filter((a) => /^[a-z][a-z0-9-]*$/.test(a))
    .slice(0, 2)
    .join(' ');

const argv = process.argv.slice(2);
if (argv.length === 0) void import(pathToFileURL(join(import.meta.dirname, 'main.js')).href);
else runBundle(join(import.meta.dirname, 'main.cjs'), cacheFile(), kindOf(argv));
