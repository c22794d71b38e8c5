// `debug` for serialport's modules in the bundled CLI (the esbuild step puts this module in its place for them):
// the real package only when the DEBUG variable names something, as that is the only way its loggers get enabled
// in our process; otherwise loggers that do nothing, without loading it (~10 ms CPU of a serial command).
import { createRequire } from 'node:module';

type Logger = (...args: unknown[]) => void;

const silent: Logger = () => {};

export default function createDebug(namespace: string): Logger {
  if (!process.env.DEBUG) return silent;
  // resolved as bindings-cpp resolves it (the only importers are its modules and @serialport/stream's)
  const real = createRequire(createRequire(import.meta.url).resolve('@serialport/bindings-cpp/package.json'))('debug') as (ns: string) => Logger;
  return real(namespace);
}
