// Named boards and macros: the user's $XDG_CONFIG_HOME/boardctl/config.json and the project's boardctl.json
// (the nearest one walking up from the current directory; its entries win). The JSON form of what mpremote's
// config.py offers:
//   { "port": "kitchen", "baud": 115200,
//     "boards": { "kitchen": "rfc2217://10.0.0.5:4000" },
//     "groups": { "rack": ["virtual:a", "virtual:b", "kitchen"] },
//     "commands": { "deploy": "sync src :/ --delete + soft-reset",
//                   "flashmp": { "args": ["file"], "command": "flash write-flash 0x1000 {file}", "help": "…" } } }
// Macro arguments are `{name}` in the command; `"args": ["x=4"]` gives a default.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { BoardError } from '../protocol/errors.js';

export interface Macro {
  args: string[];
  command: string;
  help?: string;
  /** The file it came from, for --help and error messages. */
  source: string;
}

export interface Config {
  port?: string;
  baud?: number;
  boards: Record<string, string>;
  /** Named lists of boards: `-p rack` runs as a fleet on them (cli/fleet.ts). */
  groups: Record<string, string[]>;
  commands: Record<string, Macro>;
  /** The files read, user file first. */
  files: string[];
}

export function userConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'boardctl', 'config.json');
}

/** The nearest boardctl.json from `cwd` up to the filesystem root. */
export function projectConfigPath(cwd = process.cwd()): string | undefined {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const file = join(dir, 'boardctl.json');
    if (existsSync(file)) return file;
    if (dirname(dir) === dir) return undefined;
  }
}

const TEXTS = Symbol.for('boardctl.configTexts');

/**
 * A config file's text, read once per process however many ask (may-be-virtual.ts, the early start, the command
 * line). Those are in bundles of their own (the bin, dist/cli/early-start.cjs, the CLI's), each with its own copy
 * of this module: the texts are kept on globalThis, which they share.
 */
export function configText(file: string): string {
  const texts = ((globalThis as { [TEXTS]?: Map<string, string> })[TEXTS] ??= new Map());
  const path = resolve(file);
  let text = texts.get(path);
  if (text === undefined) texts.set(path, (text = readFileSync(path, 'utf8')));
  return text;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function bad(file: string, what: string): BoardError {
  return new BoardError('USAGE', `${file}: ${what}`, { path: file });
}

function readConfigFile(file: string, into: Config): void {
  let data: unknown;
  try {
    data = JSON.parse(configText(file));
  } catch (err) {
    throw bad(file, err instanceof SyntaxError ? `not valid JSON (${err.message})` : (err as Error).message);
  }
  if (!isRecord(data)) throw bad(file, 'expected a JSON object');
  into.files.push(file);
  if (data.port !== undefined) {
    if (typeof data.port !== 'string') throw bad(file, '"port" must be a string');
    into.port = data.port;
  }
  if (data.baud !== undefined) {
    if (!Number.isInteger(data.baud) || (data.baud as number) < 50) throw bad(file, '"baud" must be a whole number such as 115200');
    into.baud = data.baud as number;
  }
  if (data.boards !== undefined) {
    if (!isRecord(data.boards)) throw bad(file, '"boards" must map names to ports');
    for (const [name, port] of Object.entries(data.boards)) {
      if (typeof port !== 'string') throw bad(file, `board "${name}": the port must be a string`);
      into.boards[name] = port;
    }
  }
  if (data.groups !== undefined) {
    if (!isRecord(data.groups)) throw bad(file, '"groups" must map names to lists of boards');
    for (const [name, members] of Object.entries(data.groups)) {
      if (!Array.isArray(members) || members.length === 0 || !members.every((m) => typeof m === 'string' && m !== '')) {
        throw bad(file, `group "${name}": expected a non-empty list of board names or ports`);
      }
      into.groups[name] = members;
    }
  }
  if (data.commands !== undefined) {
    if (!isRecord(data.commands)) throw bad(file, '"commands" must map names to commands');
    for (const [name, spec] of Object.entries(data.commands)) into.commands[name] = macroOf(file, name, spec);
  }
}

function macroOf(file: string, name: string, spec: unknown): Macro {
  if (!/^[A-Za-z_][\w-]*$/.test(name)) throw bad(file, `command "${name}": a name is letters, digits, - and _`);
  if (typeof spec === 'string') return { args: [], command: spec, source: file };
  if (!isRecord(spec) || typeof spec.command !== 'string') throw bad(file, `command "${name}": expected a string or {"command": …}`);
  const args = spec.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string' && /^\w+(=.*)?$/.test(a))) throw bad(file, `command "${name}": "args" must be names (name or name=default)`);
  return { args, command: spec.command, help: typeof spec.help === 'string' ? spec.help : undefined, source: file };
}

/** The user's config, then the project's over it. A missing file is no error; a broken one is. */
export function loadConfig(opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Config {
  const config: Config = { boards: {}, groups: {}, commands: {}, files: [] };
  const user = userConfigPath(opts.env);
  if (existsSync(user)) readConfigFile(user, config);
  const project = projectConfigPath(opts.cwd);
  if (project && resolve(project) !== resolve(user)) readConfigFile(project, config);
  // Checked once both files are in: a clash may span them.
  for (const [name, members] of Object.entries(config.groups)) {
    const where = config.files.join(' or ');
    if (Object.hasOwn(config.boards, name)) throw bad(where, `"${name}" is both a board and a group`);
    const nested = members.find((m) => Object.hasOwn(config.groups, m));
    if (nested) throw bad(where, `group "${name}": "${nested}" is a group (groups do not nest)`);
  }
  return config;
}

/** The boards of the groups named in a -p list, in place of their names; undefined when it names no group. */
export function groupPorts(config: Config, port: string | undefined): string[] | undefined {
  const entries = port?.split(',') ?? [];
  if (!entries.some((e) => Object.hasOwn(config.groups, e))) return undefined;
  return entries.flatMap((e) => config.groups[e] ?? [e]);
}

/** A board's name from the config as its port string; anything else as it is. */
export function resolvePort(config: Config, port: string): string {
  return config.boards[port] ?? port;
}

/** Words of a macro's command, with shell-style quotes ('…', "…") and backslash escapes. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word ??= '';
    } else if (ch === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text[++i];
    } else if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? '') + ch;
  }
  if (quote) throw new BoardError('USAGE', `unterminated ${quote} in "${text}"`);
  if (word !== undefined) words.push(word);
  return words;
}

const VALUE_OPTIONS = new Set(['-p', '--port', '--baud']);

/**
 * Replace each macro in command position (the start, or after `+`) by its words, its arguments substituted.
 * What follows a macro's arguments is the next command. A macro that ends up calling itself is an error.
 */
export function expandMacros(argv: string[], commands: Record<string, Macro>, stack: string[] = []): string[] {
  const out: string[] = [];
  let commandPosition = true;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '+') {
      out.push(word);
      commandPosition = true;
      continue;
    }
    if (commandPosition && word.startsWith('-')) {
      out.push(word);
      if (VALUE_OPTIONS.has(word) && i + 1 < argv.length) out.push(argv[++i]!);
      continue;
    }
    const macro = commandPosition && Object.hasOwn(commands, word) ? commands[word] : undefined;
    commandPosition = false;
    if (!macro) {
      out.push(word);
      continue;
    }
    if (stack.includes(word)) throw new BoardError('USAGE', `command "${word}" calls itself (${[...stack, word].join(' → ')}); see ${macro.source}`);
    const values: Record<string, string> = {};
    for (const arg of macro.args) {
      const [name, fallback] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
      const given = i + 1 < argv.length && argv[i + 1] !== '+' ? argv[++i] : undefined;
      const value = given ?? fallback;
      if (value === undefined) throw new BoardError('USAGE', `${word}: missing argument ${name.toUpperCase()} (usage: ${word} ${macro.args.map((a) => a.split('=')[0]!.toUpperCase()).join(' ')})`);
      values[name] = value;
    }
    const words = splitWords(macro.command).map((w) => w.replace(/\{(\w+)\}/g, (m, name: string) => values[name] ?? m));
    out.push(...expandMacros(words, commands, [...stack, word]));
    if (i + 1 < argv.length && argv[i + 1] !== '+') {
      out.push('+');
      commandPosition = true;
    }
  }
  return out;
}

/** The macros in effect, for --help. */
export function macroHelp(config: Config): string {
  const names = Object.keys(config.commands);
  if (!names.length) return '';
  const width = Math.max(...names.map((n) => n.length + config.commands[n]!.args.length * 6)) + 2;
  const lines = names.map((n) => {
    const m = config.commands[n]!;
    const usage = [n, ...m.args.map((a) => a.split('=')[0]!.toUpperCase())].join(' ');
    return `  ${usage.padEnd(width)}${m.help ?? m.command}`;
  });
  return `\nCommands from ${config.files.join(' and ')}:\n${lines.join('\n')}\n`;
}
