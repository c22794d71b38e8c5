// esptool v5 still takes v4's spellings (write_flash, --flash_mode, --before default_reset, merge-bin's
// --fill-flash-size), warning once for each, its two-letter short options (-fm, -ff, -fs) and argument files
// (`write-flash @flash_args`, as ESP-IDF's build writes them), and so does `boardctl flash`: commands copied from
// tutorials, firmware download pages and IDF's output run unchanged.
import { readFileSync } from 'node:fs';
import { fileError } from '../protocol/host-error.js';
import { BoardError } from '../protocol/errors.js';
import { commandIndex } from './chain.js';

/** Options of `flash` itself that take a value: before the subcommand, their value is not the subcommand. */
const FLASH_VALUE_OPTIONS = new Set(['-p', '--port', '-c', '--chip', '-b', '--baud', '--before', '--after', '--stub', '--connect-attempts']);
/** Options whose values esptool v4 spelt with underscores too. */
const RESET_OPTIONS = new Set(['--before', '--after']);

/** Option names esptool v5 gave a new name (after v4's underscores became dashes). */
const RENAMED: Record<string, string> = { '--fill-flash-size': '--pad-to-size' };
/** esptool's two-letter short options; commander takes one letter after a single dash. */
const SHORT: Record<string, string> = { '-fm': '--flash-mode', '-ff': '--flash-freq', '-fs': '--flash-size' };

const dashed = (word: string) => word.replace(/_/g, '-');

/** A line's words as POSIX sh (and Python's shlex.split, which esptool uses) splits them: quotes and backslashes. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new BoardError('USAGE', 'no closing quotation');
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      // Inside double quotes a backslash escapes only " \ $ and `.
      let body = '';
      for (i++; i < line.length && line[i] !== '"'; i++) body += line[i] === '\\' && /["\\$`]/.test(line[i + 1] ?? '') ? line[++i]! : line[i]!;
      if (i >= line.length) throw new BoardError('USAGE', 'no closing quotation');
      word = (word ?? '') + body;
    } else if (ch === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i]!;
    } else word = (word ?? '') + ch;
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** A flash segment with each `@FILE` after `flash` replaced by the file's words, line by line (esptool's rule). */
function withArgFiles(args: string[], at: number, read: (file: string) => string): string[] {
  if (args[at] !== 'flash' || !args.some((a, i) => i > at && a.length > 1 && a.startsWith('@'))) return args;
  return args.flatMap((arg, i) => {
    if (i <= at || arg.length < 2 || !arg.startsWith('@')) return [arg];
    let text: string;
    try {
      text = read(arg.slice(1));
    } catch (err) {
      throw fileError(`argument file ${arg.slice(1)}`, err);
    }
    try {
      return text.split(/\r?\n/).flatMap(shellWords);
    } catch (err) {
      throw new BoardError('USAGE', `argument file ${arg.slice(1)}: ${(err as Error).message}`);
    }
  });
}

/**
 * A chain's segment with a `flash` command's v4 spellings in v5's, and esptool's deprecation warning for each one
 * changed. Only names change: the subcommand, option names, and the reset options' values (never a file name or an
 * address). Any other segment comes back as it is.
 */
export function esptoolSpellings(args: string[], read = (file: string) => readFileSync(file, 'utf8')): { args: string[]; warnings: string[] } {
  const at = commandIndex(args);
  const out = withArgFiles([...args], at, read);
  const warnings: string[] = [];
  let subcommand = false;
  for (let i = at + 1; out[at] === 'flash' && i < out.length; i++) {
    const arg = out[i]!;
    if (!arg.startsWith('-')) {
      if (!subcommand && arg.includes('_')) {
        out[i] = dashed(arg);
        warnings.push(`Command '${arg}' is deprecated. Use '${out[i]}' instead.`);
      }
      subcommand = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const v5 = arg.startsWith('--') && name.includes('_') ? dashed(name) : name;
    const fixed = RENAMED[v5] ?? SHORT[v5] ?? v5;
    if (fixed !== name && !SHORT[name]) warnings.push(`Option '${name}' is deprecated. Use '${fixed}' instead.`);
    out[i] = fixed + (eq < 0 ? '' : arg.slice(eq));
    if (subcommand) continue; // a subcommand's option: its name only (its value may be a file name)
    const valueAt = eq < 0 ? i + 1 : i;
    const value = eq < 0 ? out[valueAt] : arg.slice(eq + 1);
    if (RESET_OPTIONS.has(fixed) && value?.includes('_')) {
      warnings.push(`Choice '${value}' for option '${fixed}' is deprecated. Use '${dashed(value)}' instead.`);
      out[valueAt] = eq < 0 ? dashed(value) : `${fixed}=${dashed(value)}`;
    }
    if (eq < 0 && FLASH_VALUE_OPTIONS.has(fixed)) i++;
  }
  return { args: out, warnings };
}
