// Board output for scripts: the UART's CR LF as a bare LF, so `$(boardctl eval x)` and pipes into grep need
// no `tr -d '\r'` (mpremote writes CR LF; boardctl keeps to the Unix convention off a terminal).

export interface LineEnds {
  push(text: string): string;
  /** What was held back at the end (a final lone CR). */
  end(): string;
}

/** CR LF → LF for text arriving in pieces; a CR at the end of a piece waits for the next one. */
export function lfLineEnds(): LineEnds {
  let heldCr = false;
  return {
    push(text) {
      let t = (heldCr ? '\r' : '') + text;
      heldCr = t.endsWith('\r');
      if (heldCr) t = t.slice(0, -1);
      return t.replace(/\r\n/g, '\n');
    },
    end() {
      const t = heldCr ? '\r' : '';
      heldCr = false;
      return t;
    },
  };
}

const asIs: LineEnds = { push: (text) => text, end: () => '' };

/**
 * LF line ends when `stream()` is not a terminal, unless the user asked for the bytes as they came; asked at the
 * first text (node makes the stream on first use: a program that prints nothing makes none).
 */
export function lineEndsFor(stream: () => { isTTY?: boolean }, raw: boolean): LineEnds {
  let chosen: LineEnds | undefined;
  const pick = () => (chosen ??= raw || stream().isTTY ? asIs : lfLineEnds());
  return { push: (text) => pick().push(text), end: () => chosen?.end() ?? '' };
}
