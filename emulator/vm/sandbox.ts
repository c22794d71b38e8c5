// Python on the board must not reach the host. The VM's `js` module is a proxy of JavaScript's globalThis and
// any JS object handed to Python leads to the Function constructor, so: point `js` at an empty object, forbid
// code generation from strings, and freeze the shared intrinsics so Python cannot plant hooks that our own code
// (which does hold host capabilities) would later call. Without code generation Python has no way to name
// globalThis, so the worker's globals (which the VM loader itself needs on every soft reset) can stay.

const SAFE_GLOBAL = Object.freeze(Object.create(null));

/** After each VM load: the VM's global-object reference (slot 0 of its JS reference table) becomes inert. */
export function detachJsGlobals(): void {
  const refs = (globalThis as { proxy_js_ref?: unknown[] }).proxy_js_ref;
  if (!Array.isArray(refs)) throw new Error('MicroPython VM layout changed: proxy_js_ref not found');
  refs[0] = SAFE_GLOBAL;
}

let locked = false;

/** Once per worker, after the first VM has loaded (the loader itself needs the unfrozen intrinsics). */
export function lockDownIntrinsics(): void {
  if (locked) return;
  locked = true;
  // Returns nothing rather than throwing: a JS exception thrown under a call from Python unwinds the VM's C stack
  // (the VM has no way to turn it into a Python exception), so everything Python can reach must not throw.
  const refuse = function () {
    return undefined;
  };
  const fnKinds = [
    function () {},
    async function () {},
    function* () {},
    async function* () {},
  ].map((f) => Object.getPrototypeOf(f) as object);
  for (const proto of fnKinds) {
    Object.defineProperty(proto, 'constructor', { value: refuse, writable: false, configurable: false });
  }
  for (const ctor of [Object, Array, Function, Promise, Error, String, Number, Boolean, Symbol, RegExp, Map, Set,
    WeakMap, WeakSet, Date, ArrayBuffer, DataView, Uint8Array, Object.getPrototypeOf(Uint8Array)]) {
    hardenPrototype(ctor.prototype);
    Object.freeze(ctor);
  }
  for (const proto of fnKinds) hardenPrototype(proto);
}

/**
 * Lock a shared prototype's existing members without the "override mistake": `err.name = …` on an instance must still work
 * (the VM's own PythonError does it), so each data property becomes an accessor whose setter gives the
 * instance its own property and refuses to change the prototype itself.
 */
function hardenPrototype(proto: object): void {
  for (const key of Reflect.ownKeys(proto)) {
    const desc = Object.getOwnPropertyDescriptor(proto, key)!;
    if (!('value' in desc) || !desc.configurable) continue;
    const value: unknown = desc.value;
    Object.defineProperty(proto, key, {
      get: () => value,
      set(this: object, v: unknown) {
        // The prototype itself stays as it is (silently: see refuse() above).
        if (this !== proto) Object.defineProperty(this, key, { value: v, writable: true, enumerable: true, configurable: true });
      },
      enumerable: desc.enumerable,
      configurable: false,
    });
  }
  // No new members either (a planted `then` or option name would be seen by every object). Adding one throws in
  // the VM's strict-mode glue; the worker then restarts the VM, which is the refusal.
  Object.preventExtensions(proto);
}
