// Type declarations for the MicroPython WebAssembly package, which ships none.
declare module '@micropython/micropython-webassembly-pyscript' {
  export interface LoadOptions {
    stdout?: (data: Uint8Array | string) => void;
    stderr?: (data: Uint8Array | string) => void;
    stdin?: () => number | null | undefined;
    linebuffer?: boolean;
    heapsize?: number;
    pystack?: number;
    url?: string;
  }
  export interface MicroPythonInstance {
    runPython(code: string): any;
    runPythonAsync(code: string): Promise<any>;
    registerJsModule(name: string, module: object): void;
    pyimport(name: string): any;
    replInit(): void;
    replProcessChar(chr: number): number;
    globals: { get(key: string): any; set(key: string, value: unknown): void; delete(key: string): void };
    FS: any;
    _module: any;
  }
  export function loadMicroPython(options?: LoadOptions): Promise<MicroPythonInstance>;
}
