// A one-line text field's editing, as data: the keys change the value at once, Enter submits what is there now.
import type { Key } from './keys.js';

export interface PromptState {
  label: string;
  value: string;
  /** Cursor position in the value. */
  at: number;
}

export type PromptOutcome = { prompt: PromptState } | { submit: string } | { cancel: true };

export const openPrompt = (label: string, initial = ''): PromptState => ({ label, value: initial, at: initial.length });

export function editPrompt(p: PromptState, k: Key): PromptOutcome {
  const put = (value: string, at: number): PromptOutcome => ({ prompt: { ...p, value, at } });
  switch (k.name) {
    case 'return': return { submit: p.value };
    case 'escape': return { cancel: true };
    case 'backspace': return p.at === 0 ? { prompt: p } : put(p.value.slice(0, p.at - 1) + p.value.slice(p.at), p.at - 1);
    case 'delete': return put(p.value.slice(0, p.at) + p.value.slice(p.at + 1), p.at);
    case 'left': return put(p.value, Math.max(0, p.at - 1));
    case 'right': return put(p.value, Math.min(p.value.length, p.at + 1));
    case 'home': return put(p.value, 0);
    case 'end': return put(p.value, p.value.length);
    case 'char':
      if (k.ctrl) {
        if (k.text === 'c') return { cancel: true };
        if (k.text === 'u') return put('', 0); // as readline: clear the line
        if (k.text === 'a') return put(p.value, 0);
        if (k.text === 'e') return put(p.value, p.value.length);
        return { prompt: p };
      }
      return put(p.value.slice(0, p.at) + k.text + p.value.slice(p.at), p.at + k.text.length);
    default: return { prompt: p };
  }
}
