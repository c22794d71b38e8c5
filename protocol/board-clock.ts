// The board's real-time clock as mpremote's `rtc` reads and sets it: machine.RTC().datetime(), the tuple
// (year, month, day, weekday, hours, minutes, seconds, subseconds) with weekday 0 = Monday.
import type { Board } from './board.js';
import { BoardError } from './errors.js';

export type RtcTuple = [number, number, number, number, number, number, number, number];

/** The tuple for a host time, in the host's local time zone (mpremote's `rtc --set`). */
export function rtcTuple(date: Date): RtcTuple {
  const weekday = (date.getDay() + 6) % 7;
  return [date.getFullYear(), date.getMonth() + 1, date.getDate(), weekday, date.getHours(), date.getMinutes(), date.getSeconds(), date.getMilliseconds() * 1000];
}

function parseTuple(text: string): RtcTuple {
  const m = /^\(([\d\s,-]+)\)$/.exec(text.trim());
  const fields = m ? m[1]!.split(',').map((f) => Number(f.trim())) : [];
  if (fields.length !== 8 || fields.some((f) => !Number.isInteger(f))) throw new BoardError('PROTOCOL', `machine.RTC().datetime() gave '${text.trim()}', not an 8-field tuple`);
  return fields as RtcTuple;
}

/**
 * An expression calling machine.RTC().CALL, or the string 'no RTC' where the port has no RTC class (qemu's);
 * __import__ rather than `import machine`: the user's globals get no `machine` they did not import themselves.
 */
const onRtc = (call: string) => `(lambda m: m.RTC().${call} if hasattr(m, 'RTC') else 'no RTC')(__import__('machine'))`;

async function evalOnRtc(board: Board, call: string): Promise<string> {
  const text = await board.eval(onRtc(call));
  if (text === "'no RTC'") throw new BoardError('DEVICE_OSERROR', 'the board has no clock: its machine module has no RTC', { lacking: 'machine.RTC' });
  return text;
}

export async function readRtc(board: Board): Promise<RtcTuple> {
  return parseTuple(await evalOnRtc(board, 'datetime()'));
}

export async function setRtc(board: Board, tuple: RtcTuple): Promise<void> {
  await evalOnRtc(board, `datetime((${tuple.join(', ')}))`);
}

/** `2024-01-02 03:04:05` for a tuple (the board keeps no time zone). */
export function formatRtc(t: RtcTuple): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${t[0]}-${two(t[1])}-${two(t[2])} ${two(t[4])}:${two(t[5])}:${two(t[6])}`;
}
