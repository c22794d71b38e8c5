// The RTC keeps counting across soft resets and deep sleep: its state lives in the plugin, outside the VM.

/** RTC time = host wall clock + offsetMs; the offset is what persists. */
export interface RtcState {
  offsetMs: number;
}

// MicroPython ports start the RTC at 2000-01-01 00:00:00 on power-up.
export function powerOnRtc(now = Date.now()): RtcState {
  return { offsetMs: Date.UTC(2000, 0, 1) - now };
}

/** The RTC's time as Unix milliseconds (what the port's time module counts from). */
export function rtcNow(state: RtcState, now = Date.now()): number {
  return now + state.offsetMs;
}

/** (year, month, day, weekday Monday=0, hours, minutes, seconds, microseconds) as machine.RTC.datetime() gives it. */
export function rtcDatetime(state: RtcState, now = Date.now()): number[] {
  const d = new Date(rtcNow(state, now));
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), (d.getUTCDay() + 6) % 7,
    d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds() * 1000];
}

export function setRtcDatetime(state: RtcState, f: number[], now = Date.now()): void {
  const [y, mo, d, h, mi, s, us] = f;
  state.offsetMs = Date.UTC(y, mo - 1, d, h, mi, s, Math.floor(us / 1000)) - now;
}
