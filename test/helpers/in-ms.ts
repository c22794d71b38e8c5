import { onTestFinished } from 'vitest';

/**
 * Run `action` `ms` from now while the test goes on (how outside events reach a running program). Await the
 * promise with what it acts on (`Promise.all([b.run(...), inMs(...)])`): the action's failure fails the test.
 * When the test ends first, the timer is cancelled; an action already under way then rejects into that
 * Promise.all, never as an unhandled rejection of a test that is over.
 */
export function inMs(ms: number, action: () => Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve, reject) => {
    timer = setTimeout(() => action().then(() => resolve(), reject), ms);
  });
  onTestFinished(() => clearTimeout(timer));
  return done;
}
