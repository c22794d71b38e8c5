// Keys for the views, decoded from the raw bytes of the terminal one key at a time: a paste of "abc\r" is the
// keys a, b, c and Enter, in that order, each handled before the next (ink would hand it over as one string).

export type KeyName =
  | 'char' | 'return' | 'escape' | 'tab' | 'backspace' | 'delete'
  | 'up' | 'down' | 'left' | 'right' | 'home' | 'end' | 'pageup' | 'pagedown' | 'unknown';

export interface Key {
  name: KeyName;
  /** The character typed (name 'char'), or the letter of a Ctrl combination ('c' for Ctrl-C). */
  text: string;
  ctrl: boolean;
}

const CSI_KEYS: Record<string, KeyName> = {
  A: 'up', B: 'down', C: 'right', D: 'left', H: 'home', F: 'end',
  '1~': 'home', '7~': 'home', '4~': 'end', '8~': 'end', '3~': 'delete', '5~': 'pageup', '6~': 'pagedown',
};

const key = (name: KeyName, text = '', ctrl = false): Key => ({ name, text, ctrl });

/** Decodes a byte stream into keys; an escape sequence cut between two reads waits for its end. */
export class KeyDecoder {
  private pending = '';

  push(chunk: Uint8Array | string): Key[] {
    const s = this.pending + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    this.pending = '';
    const keys: Key[] = [];
    for (let i = 0; i < s.length; ) {
      const ch = s[i]!;
      if (ch === '\x1b') {
        const seq = /^\x1b(?:\[[0-9;?]*[ -/]*[@-~]|O[@-~])/.exec(s.slice(i, i + 32));
        if (seq) {
          const body = seq[0].startsWith('\x1bO') ? seq[0].slice(2) : seq[0].slice(2).replace(/^1;\d+(?=[A-Z])/, '');
          keys.push(key(CSI_KEYS[body] ?? 'unknown', seq[0]));
          i += seq[0].length;
          continue;
        }
        if (/^\x1b(?:\[[0-9;?]*|O)?$/.test(s.slice(i)) && s.length - i > 1) {
          this.pending = s.slice(i); // the rest of this sequence comes with the next read
          break;
        }
        keys.push(key('escape'));
        i++;
        continue;
      }
      const cp = s.codePointAt(i)!;
      const width = cp > 0xffff ? 2 : 1;
      i += width;
      if (ch === '\r' || ch === '\n') keys.push(key('return'));
      else if (ch === '\t') keys.push(key('tab'));
      else if (ch === '\x7f' || ch === '\b') keys.push(key('backspace'));
      else if (cp < 0x20) keys.push(key('char', String.fromCharCode(cp + 0x60), true));
      else keys.push(key('char', String.fromCodePoint(cp)));
    }
    return keys;
  }
}

/** A printable character, not a Ctrl combination. */
export const typed = (k: Key, text?: string): boolean => k.name === 'char' && !k.ctrl && (text === undefined || k.text === text);
