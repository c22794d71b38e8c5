// serialport's pieces without its index: the stream class and this platform's binding only, chosen the way
// bindings-cpp's autoDetect() chooses (win32, darwin, everything else Linux). The `serialport` package's index
// loads a dozen stream parsers we do not use, and bindings-cpp's index loads all three platforms' bindings.
import type { AutoDetectTypes } from '@serialport/bindings-cpp';
import type { OpenOptions, SerialPortStream } from '@serialport/stream';

export type SerialPortBinding = AutoDetectTypes;
export type SerialPortInstance = SerialPortStream<SerialPortBinding>;

// (CommonJS modules: their exports as `default`, which both Node and the bundle give.)

/** The binding serialport's autoDetect() would return here, loading no other platform's code. */
export async function platformBinding(): Promise<SerialPortBinding> {
  switch (process.platform) {
    case 'win32':
      return (await import('@serialport/bindings-cpp/dist/win32.js')).default.WindowsBinding;
    case 'darwin':
      return (await import('@serialport/bindings-cpp/dist/darwin.js')).default.DarwinBinding;
    default:
      return (await import('@serialport/bindings-cpp/dist/linux.js')).default.LinuxBinding;
  }
}

/** What `new SerialPort(options)` of the `serialport` package makes. */
export async function createSerialPort(options: Omit<OpenOptions<SerialPortBinding>, 'binding'>): Promise<SerialPortInstance> {
  const [stream, binding] = await Promise.all([import('@serialport/stream'), platformBinding()]);
  const { SerialPortStream } = stream.default;
  return new SerialPortStream<SerialPortBinding>({ binding, ...options } as OpenOptions<SerialPortBinding>);
}
