// Type declarations for the MicroPython WebAssembly package, which ships none.
declare module '@micropython/micropython-webassembly-pyscript' {
  export interface LoadOptions {
    /** Lines as strings (linebuffer: true, the default) or raw bytes (linebuffer: false). */
    stdout?: ((data: string) => void) | ((data: Uint8Array) => void);
    stderr?: ((data: string) => void) | ((data: Uint8Array) => void);
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
    /** A Python object by its proxy id (passed into Python, it is that object). */
    PyProxy: new (ref: number) => object;
  }
  export function loadMicroPython(options?: LoadOptions): Promise<MicroPythonInstance>;
}
