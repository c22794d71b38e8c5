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
  const refuse = function () {
    throw new EvalError('code generation is disabled on the virtual board');
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
    Object.freeze(ctor.prototype);
    Object.freeze(ctor);
  }
  for (const proto of fnKinds) Object.freeze(proto);
}
