// esptool v5 still takes v4's spellings (write_flash, --flash_mode, --before default_reset), warning once for each,
// and so does `boardctl flash`: commands copied from tutorials and firmware download pages run unchanged.
import { commandIndex } from './chain.js';

/** Options of `flash` itself that take a value: before the subcommand, their value is not the subcommand. */
const FLASH_VALUE_OPTIONS = new Set(['-p', '--port', '-c', '--chip', '-b', '--baud', '--before', '--after', '--stub', '--connect-attempts']);
/** Options whose values esptool v4 spelt with underscores too. */
const RESET_OPTIONS = new Set(['--before', '--after']);

const dashed = (word: string) => word.replace(/_/g, '-');

/**
 * A chain's segment with a `flash` command's v4 spellings in v5's, and esptool's deprecation warning for each one
 * changed. Only names change: the subcommand, option names, and the reset options' values (never a file name or an
 * address). Any other segment comes back as it is.
 */
export function esptoolSpellings(args: string[]): { args: string[]; warnings: string[] } {
  const out = [...args];
  const warnings: string[] = [];
  let subcommand = false;
  const at = commandIndex(out);
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
    const fixed = arg.startsWith('--') && name.includes('_') ? dashed(name) : name;
    if (fixed !== name) warnings.push(`Option '${name}' is deprecated. Use '${fixed}' instead.`);
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
