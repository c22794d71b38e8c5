# The board runtime, run by the host at every boot before anything else (install()). It makes the VM the profile's
# port: the real sys, os and time modules with the port's identity and the host's stdin, sleeps and clock; the
# port's module set and no more (the VM package's extras are out of reach); frozen modules imported from /rom.
# Nothing of it stays visible: it is not in sys.modules and its frames are taken out of tracebacks.
import builtins
import gc
import micropython
import random
import sys
import uio as io
import uos
import uctypes
import utime
import vfs
import __main__
import _board
import _hostloop
import _patch

_VfsPosix = vfs.VfsPosix
# The ESP32 port's errno values (ESP-IDF's newlib, not Linux's) where they differ: its sockets raise these.
_ESP_ERRNO = {'EADDRINUSE': 112, 'ECONNABORTED': 113, 'ENOTCONN': 128, 'ETIMEDOUT': 116, 'EHOSTUNREACH': 118,
              'EALREADY': 120, 'EINPROGRESS': 119}
_c_import = builtins.__import__
_c_help = builtins.help
_c_sleep_us = utime.sleep_us
_pending = 0
_OURS = set(_patch.qstr_number(p) for p in ('/rom/_boardrt.py', '/rom/_boot.py', '/rom/_patch.py', '/.frozen/_vfs.py'))
_frozen = set()  # top-level names of the frozen tree the port has
_absent = {}  # top-level name -> why the board lacks it
_hidden = set()  # the VM's own modules the port has not
_private = {}  # the host's JavaScript modules, for the runtime's own modules only
_runtime = set()  # frozen helpers of the runtime's own modules ('_vfs'), which the firmware has not


def check():
    # A conditional jump: the VM raises a KeyboardInterrupt scheduled by the host right here.
    if _pending:
        pass


def _native(e):
    # The exception object itself (a Python subclass instance keeps it as its first sub-object).
    if getattr(builtins, type(e).__name__, None) is type(e):
        return e
    return _patch.object_at(_patch.peek(id(e) + 16))


def hide(e):
    _patch.drop_frames(_native(e), _OURS)


def bare(f):
    # f as firmware C code looks from Python: it prints as a C function, what it raises carries no frame of the
    # runtime.
    def call(*args, **kw):
        try:
            return f(*args, **kw)
        except BaseException as e:
            hide(e)
            raise
    return _patch.as_builtin(call)


# ---- stdin: the link's input, pollable -----------------------------------------------------------------------

def _chunk(n):
    # Block until at least one byte arrives from the link (host-side wait; Ctrl-C raises here).
    while True:
        d = bytes(_board.stdin_read(n))
        check()
        if d:
            return d


class FileIO(io.IOBase):
    # sys.stdin.buffer: bytes.
    def _out(self, b):
        return bytes(b)

    @bare
    def read(self, n=-1):
        out = bytearray()
        while n is None or n < 0 or len(out) < n:
            d = _chunk(4096 if n is None or n < 0 else n - len(out))
            if (n is None or n < 0) and b'\x04' in d:
                out += d[:d.index(b'\x04')]
                break
            out += d
        return self._out(out)

    @bare
    def readinto(self, buf, nbytes=-1):
        n = len(buf) if nbytes < 0 else min(nbytes, len(buf))
        d = _chunk(n)
        buf[:len(d)] = d
        return len(d)

    @bare
    def readline(self):
        out = bytearray()
        while not out.endswith(b'\n') and not out.endswith(b'\r'):
            out += _chunk(1)
        return self._out(out)

    def ioctl(self, op, arg):
        if op == 3:  # MP_STREAM_POLL: readable while link input waits
            return arg & 1 if _board.stdin_any() else 0
        return 0

    def fileno(self):
        return 0

    def __iter__(self):
        return self

    def __next__(self):
        return self.readline()

    def __repr__(self):
        return '<io.FileIO 0>'


class TextIOWrapper(FileIO):
    # sys.stdin: text.
    def __init__(self):
        self.buffer = FileIO()

    def _out(self, b):
        return b.decode()

    def __repr__(self):
        return '<io.TextIOWrapper 0>'


def input(prompt=''):
    try:
        return _read_line(prompt)
    except BaseException as e:
        hide(e)
        raise


def _read_line(prompt):
    out = sys.stdout
    if prompt:
        out.write(prompt)
    line = bytearray()
    while True:
        c = _chunk(1)[0]
        if c == 13 or c == 10:
            out.write('\r\n')
            return line.decode()
        if c == 8 or c == 127:
            if line:
                line.pop()
                out.write('\b \b')
        elif c == 4 and not line:
            raise EOFError
        elif c == 3:
            raise KeyboardInterrupt
        elif c >= 32:
            line.append(c)
            out.buffer.write(bytes((c,)))


# ---- stdout: sys.stdout.buffer is raw (no LF to CRLF), as the firmware's ------------------------------------

_c_buffer_write = type(sys.stdout.buffer).write


def _buffer_write(self, *args):
    _board.raw_stdout(1)
    try:
        return _c_buffer_write(self, *args)
    except BaseException as e:
        hide(e)
        raise
    finally:
        _board.raw_stdout(0)


# ---- time: sleeps that wait on the host (idle CPU, prompt Ctrl-C), the host's clock ----------------------------
# Plain functions (not wrapped, one call less); each takes its own frame out of a traceback.

def sleep(s):
    try:
        _board.sleep_ms(s * 1000)
        check()
    except BaseException as e:
        hide(e)
        raise


def sleep_ms(ms):
    try:
        _board.sleep_ms(ms)
        check()
    except BaseException as e:
        hide(e)
        raise


def sleep_us(us):
    try:
        if us >= 1000:
            _board.sleep_ms(us / 1000)
        else:
            _c_sleep_us(us)
        check()
    except BaseException as e:
        hide(e)
        raise


_ticks_us = _board.ticks_us
_ticks_cpu = _board.ticks_cpu


def ticks_us():
    return _ticks_us()


def ticks_cpu():
    return _ticks_cpu()


# ---- os -------------------------------------------------------------------------------------------------------

_uname = None


def uname():
    return _uname


def urandom(n):
    if n < 0:
        raise ValueError
    return bytes.fromhex(_board.urandom(n))


# ---- imports: the port's module set, frozen modules from /rom ---------------------------------------------------

_depth = 0
_base = []  # sys.path as the user has it, for the import under way
_set = None  # the list the hook put in sys.path for it


def _search_path(base, frozen):
    # base with '.frozen' meaning our frozen tree (or nothing): the VM's own frozen modules are never searched.
    out = []
    for p in base:
        if p == '.frozen':
            if frozen:
                out.append('/.frozen')
        else:
            out.append(p)
    return out


# Firmware C modules registered as extensible (MP_REGISTER_EXTENSIBLE_MODULE), which `import u<name>` also finds
# there when no file of that name is on sys.path: the ones our frozen modules stand in for, or the board lacks.
_U_NAMES = ('machine', 'socket', 'cryptolib', 'bluetooth', 'websocket')


def __import__(name, *args):
    # args as the caller gave them (globals, locals, fromlist, level): the C import reads what is absent its way.
    global _depth, _base, _set
    g = args[0] if args else None
    level = args[3] if len(args) > 3 else 0
    if not isinstance(name, str) or not isinstance(level, int) or not isinstance(g, (dict, type(None))):
        return _c_import(name, *args)  # and its TypeError or ValueError
    g = g or {}
    top = name.split('.')[0] if level == 0 else g.get('__name__', '').split('.')[0]
    ours = g.get('__file__', '').startswith(('/.frozen/', '/rom/')) or id(g) in _ours_g
    if level == 0 and name in _private and ours:
        return _private[name]
    if level == 0 and (top in _hidden or top in _runtime and not ours):
        raise ImportError("no module named '%s'" % name)
    frozen = top in _frozen or top in _runtime  # (a frozen package's relative imports, too)
    current = sys.path
    saved = _base, _set
    # A module being imported may set sys.path itself (to () to reach a builtin): that is the user's path then.
    _base = _base if _depth and current is _set else list(current)
    _set = ['/.frozen'] if top in _runtime else _search_path(_base, frozen)
    _depth += 1
    mounted = False
    try:
        if frozen and '/.frozen' not in [m[1] for m in vfs.mount()]:
            vfs.mount(_VfsPosix('/rom'), '/.frozen', readonly=True)
            mounted = True
        sys.path = _set
        m = _c_import(name, *args)
        if mounted:
            _name_frozen()
        return m
    except ImportError as e:
        if level == 0 and top in _absent and top in str(e):
            raise ImportError("no module named '%s' (%s)" % (name, _absent[top]))
        if level == 0 and name == top and top[0] == 'u' and top[1:] in _U_NAMES and top in str(e):
            if top[1:] in _frozen or top[1:] in _absent:
                return __import__(top[1:], *args)
        hide(e)
        raise
    except BaseException as e:
        hide(e)
        raise
    finally:
        sys.path = current
        _base, _set = saved
        if mounted:
            vfs.umount('/.frozen')
        _depth -= 1


_FUNCTION = type(check)
# Our frozen modules that are C modules on the firmware: their functions print as C functions and what they raise
# carries none of their frames (the others are frozen Python there too, and keep their frames).
_C_MODULES = ('machine', 'network', 'socket', 'tls', 'esp', 'esp32', 'cryptolib')
# id -> globals of our frozen modules, named as the firmware's by _name_frozen (held, so no id is taken again): what
# they import when called later (asyncio's host loop imports the runtime's parts) is ours, as at their import.
_ours_g = {}


def _as_c(m, f):
    # m's functions and its classes' methods (not the _private ones) wrapped by bare(), one wrapper a function (an
    # alias such as machine.sleep stays the same object); frames of its file dropped; no __file__, as a built-in
    # module has none (repr <module 'machine'>). Its functions' lazy imports are of public modules only.
    _OURS.add(_patch.qstr_number(f))
    g = m.__dict__
    del g['__file__']
    wrapped = {}

    def c(fn):
        if fn not in wrapped:
            wrapped[fn] = bare(fn)
        return wrapped[fn]

    for k, v in list(g.items()):
        if type(v) is type and getattr(v, '__module__', None) == g.get('__name__'):
            for n, w in list(v.__dict__.items()):
                if type(w) is _FUNCTION and (n[0] != '_' or n[:2] == '__'):
                    setattr(v, n, c(w))
        elif type(v) is _FUNCTION and k[0] != '_' and _patch.globals_of(v) is g:
            g[k] = c(v)


def _name_frozen():
    # Each newly imported frozen module (its __file__ still under /.frozen) named as the firmware names it: __file__
    # and tracebacks 'asyncio/core.py' (a frozen module's file there, '.frozen/' left off), the code's file name
    # renamed through a function compiled in it; C modules have no file. Its globals stay known as ours.
    for m in list(sys.modules.values()):
        f = getattr(m, '__file__', '')
        if not f.startswith('/.frozen/') or f[9:-3] in _runtime:
            continue  # the runtime's own helpers keep their /.frozen name, whose frames hide() drops
        g = m.__dict__
        _ours_g[id(g)] = g
        if f[9:-3] in _C_MODULES:
            _as_c(m, f)
            continue
        for v in list(g.values()) + [w for c in g.values() if type(c) is type for w in c.__dict__.values()]:
            if type(v) is _FUNCTION and _patch.globals_of(v) is g:
                _patch.rename_source(v, f[9:])
                break
        g['__file__'] = f[9:]


def help(*args):
    if args != ('modules',):
        # help(help) describes the firmware's help, a C function.
        return _c_help(*(_c_help if a is help else a for a in args))
    # As the firmware lists them: sorted, in four columns 18 wide, column by column.
    names = _board.modules.split(',')
    rows = (len(names) + 3) // 4
    for r in range(rows):
        line = ''
        for c in range(r, len(names), rows):
            line += names[c]
            if c + rows < len(names):
                gap = 18 - len(names[c])
                while gap < 1:
                    gap += 18
                line += ' ' * gap
        print(line)
    print('Plus any modules on the filesystem')


def run_file(path):
    # boot.py / main.py as pyexec_file_if_exists runs them, in the REPL's globals; False when there is no file.
    try:
        f = open(path)
    except OSError:
        return False
    with f:
        src = f.read()
    # A program whose top-level asyncio runs the host drives is run by the host, once this call has returned;
    # one with top-level while loops is staged for the host to step.
    if _hostloop.hand_over(src, path):
        return True
    stepped = _gc_flag is not None and _board.rewrite_loops(src)
    if stepped:
        stage(stepped, path)
        return 2
    exec(compile(src, path, 'exec'), __main__.__dict__)
    return True


# ---- programs whose top-level loops the host steps (emulator/vm/loop-rewrite.ts) -------------------------------
# The host hands the rewritten program to stage(), which compiles it with top-level await (its module code is then
# a generator) and makes the generator; the host then calls step() until it returns False. Each call is a call
# from JavaScript at the top level, where the VM collects the garbage it could not collect while the loop ran.

_gc_flag = None  # the port's gc_collect_pending, a byte in place (None: the host cannot step loops)
_await_flag = None  # the compiler's top-level-await switch, a byte in place
_program = None  # the staged program (a generator) until it ends
_hooks = {}  # what a rewritten program's hooks stand for: bytes literal -> the runtime's object
_on = bytearray(1)  # 1 while the host steps the program: only then can a collection point reach it


_steps = 0  # calls of step(): each is a call from the host, after which the VM has collected
_over = 0  # collections in a row that left more in use than the board's heap


def _collect_point():
    # What a rewritten loop awaits when a collection is pending: one trip out to the host, which collects, and
    # back. What is still in use then is live: past the board's heap the program could not go on on a board, so
    # it gets the MemoryError the board's allocator would give, in the loop (a program that catches it goes on).
    # Driven by a stepped function's wrapper instead (no trip out, nothing collected), it only passes by.
    # Twice in a row: the first collection after a program may still see what the last one left (its roots
    # linger for one collection).
    global _over
    steps = _steps
    yield
    if _steps != steps:
        _over = _over + 1 if gc.mem_alloc() > _board.heap else 0
        if _over > 1:
            _over = 0
            raise MemoryError('memory allocation failed')
    return True


def _stepped(src, name):
    # The rewritten program compiled with top-level await, its hooks bound, made into its generator (none of it
    # has run yet).
    _await_flag[0] = 1
    try:
        code = compile(src, name, 'exec')
    finally:
        _await_flag[0] = 0
    _patch.bind_constants(code, _hooks)
    return exec(code, __main__.__dict__)


def _exec(code):
    # A rewritten top-level `exec(code)`: code runs as exec() runs it there, in __main__, stepped when it has
    # top-level loops (its collection points then pass through here to the host).
    mine = __main__.__dict__.get('exec', exec)
    if mine is not exec:
        return mine(code)  # the program's own exec
    stepped = type(code) is str and _board.rewrite_loops(code)
    if stepped:
        # (code with no collection points of its own has run to its end in there: no generator)
        return (yield from _stepped(stepped, '<string>') or ())
    exec(code, __main__.__dict__)


def stage(src, name):
    global _program
    try:
        # Module code with no collection points of its own (only its functions' loops) runs here, to its end.
        _program = _stepped(src, name) or _ended()
    except BaseException as e:
        hide(e)
        raise


def _ended():
    return
    yield


def _unstage():
    global _program
    _program = None
    _twins.clear()


# A top-level function whose loops are stepped is an `async def` (loop-rewrite.ts): called by a rewritten
# statement it is awaited, so its collection points reach the host; called by anything else (an expression, a
# callback, the REPL later) its wrapper runs it to its end at once, passing its collection points by. The wrapper
# is a plain function of the same name (a method of the class, for a method); its frames and _run's are taken
# out of tracebacks.
_twins = {}  # wrapper -> the async function, for the staged program's calls
_WRAPPER = """def %s(*args, **kw):
    try:
        return b'\\0run'(b'\\0fun', args, kw)
    except b'\\0base' as e:
        b'\\0hide'(e)
        raise
"""


def _run(fun, args, kw):
    # Nothing collects while this runs: the function's collection points pass by, allocating nothing.
    on = _on[0]
    _on[0] = 0
    try:
        run = fun(*args, **kw)
        while True:
            run.send(None)
    except StopIteration as e:
        return e.value
    finally:
        _on[0] = on


def _twin(fun):
    code = compile(_WRAPPER % fun.__name__, '/rom/_boardrt.py', 'exec')
    _patch.bind_constants(code, {b'\0run': _run, b'\0fun': fun, b'\0base': BaseException, b'\0hide': hide})
    g = {}
    exec(code, g)
    wrapper = g[fun.__name__]
    _twins[wrapper] = fun
    return wrapper


def _now(value):
    return value
    yield


_BOUND = type(_twins.get)


def _call(fun):
    # What a rewritten call `await CALL(f)(...)` calls: f's async function (for a method bound to an object, bound
    # to it too), or f run at once.
    if type(fun) is _BOUND:
        meth, obj = _patch.bound_parts(fun)
        twin = _twins.get(meth) if type(meth) is _FUNCTION else None
        if twin:
            return lambda *args, **kw: twin(obj, *args, **kw)
    elif type(fun) is _FUNCTION and fun in _twins:
        return _twins[fun]
    return lambda *args, **kw: _now(fun(*args, **kw))


def step():
    # Run the staged program up to its next collection point: True while it goes on. What it raises comes out of
    # here as out of the program (our frame taken out); its end is a StopIteration with no frame of its own.
    global _steps
    _steps += 1
    _on[0] = 1
    try:
        _program.send(None)
        return True
    except BaseException as e:
        _unstage()
        hide(e)
        if isinstance(e, StopIteration) and not _patch.frame_count(e):
            return False
        raise
    finally:
        _on[0] = 0


_parts = {}  # a part's boot script -> its globals, made once per VM


def run_frozen(name, boot=True):
    # A part's frozen boot script (the filesystem's _boot.py), with the runtime's helpers at hand: the runtime's
    # own _patch (a second import of it would not keep what it patches in). Its top level runs once per VM (the host
    # asks before taking the VM's snapshot, boot=False), its boot() at every boot.
    g = _parts.get(name)
    if g is None:
        with open('/rom/' + name) as f:
            src = f.read()
        g = {'__name__': name[:-3], '__file__': '/rom/' + name, 'bare': bare, 'set_entries': _patch.set_entries}
        exec(compile(src, '/rom/' + name, 'exec'), g)
        _parts[name] = g
    if boot:
        g['boot']()


def _vm_builtins(names):
    # Which of the VM's modules are built in (C): those importable with no path at all.
    saved = sys.path[:]
    sys.path[:] = []
    found = set()
    try:
        for n in names:
            try:
                _c_import(n)
                found.add(n)
            except ImportError:
                pass
    finally:
        sys.path[:] = saved
    return found


def install():
    global _uname, _frozen, _absent, _hidden, _private, _runtime
    _board.keep(_patch.keep)
    q = _patch.qstr
    present = set(n.split('/')[0] for n in _board.modules.split(','))
    frozen = set(_board.frozen.split(','))
    _frozen = frozen & present
    _absent = dict(a.split(':', 1) for a in _board.absent.split('|') if a)
    _runtime = set(n for n in frozen - present if n.startswith('_') and n not in _absent)
    vm = [n for n in _board.vm_modules.split(',') if '/' not in n]
    _hidden = set(n for n in _vm_builtins(vm) if n not in present)

    impl = sys.implementation
    _patch.set_item(impl, 2, q(_board.machine))
    if len(impl) > 4:
        _patch.set_item(impl, 4, q(_board.build))
    _patch.set_entries(sys.__dict__, {'platform': q(_board.platform), 'stdin': TextIOWrapper()})
    _patch.own_locals(sys.stdout.buffer, {'write': _patch.as_builtin(_buffer_write)})
    _uname = _patch.attrtuple(
        impl, ('sysname', 'nodename', 'release', 'version', 'machine'),
        [q(_board.sysname), q(_board.sysname), q(_board.release), q(_board.version), q(_board.machine)])
    _patch.set_entries(uos.__dict__, {'uname': uname, 'urandom': urandom}, drop=('VfsPosix',))
    _patch.set_entries(vfs.__dict__, {}, drop=('VfsPosix',))
    if _board.platform == 'esp32':
        import errno
        _patch.set_entries(errno.__dict__, _ESP_ERRNO)
        # errorcode is also the table the VM prints OSError names from ("[Errno 118] EHOSTUNREACH").
        _patch.set_items(errno.errorcode, [(getattr(errno, n), n) for n in errno.errorcode.values()])
    _patch.set_entries(utime.__dict__, {
        'sleep': sleep, 'sleep_ms': sleep_ms, 'sleep_us': sleep_us,
        'ticks_us': ticks_us, 'ticks_cpu': ticks_cpu,
    })
    # What stands in for the firmware's C functions prints as they do.
    for f in (sleep, sleep_ms, sleep_us, ticks_us, ticks_cpu, uname, urandom, input, help, __import__):
        _patch.as_builtin(f)
    builtins.input = input
    builtins.help = help
    builtins.__import__ = __import__
    sys.path[:] = ['', '.frozen', '/lib']
    for m in ('_boardrt', '_patch'):
        sys.modules.pop(m, None)
    # The host's modules (registered into sys.modules) stay reachable for our frozen code only.
    _private = {n: m for n, m in sys.modules.items() if type(m).__name__ == 'JsProxy'}
    for n in _private:
        del sys.modules[n]
    _hidden |= set(_private)
    global _gc_flag, _await_flag
    if _board.gc_flag >= 0:
        _gc_flag = uctypes.bytearray_at(_board.gc_flag, 1)
        _await_flag = uctypes.bytearray_at(_board.await_flag, 1)
        # The port asks for a collection every 16 KiB allocated; a board's heap (gc.threshold() -1) only when full:
        # a stepped loop then trips to the host once per heap of garbage, not once per 16 KiB.
        gc.threshold(-1)
        # What rewritten programs name, by their hooks (loop-rewrite.ts).
        mark = b'\0' + _board.hook_mark.encode()
        for k, v in (('gc', _gc_flag), ('on', _on), ('yield', _collect_point), ('exec', _exec), ('twin', _twin),
                     ('call', _call)):
            _hooks[mark + k.encode()] = v
    _board.connect(run_file, run_frozen, micropython.kbd_intr, stage, step, gc.collect, random.seed)
    # What only boot needs takes none of the heap a program has (its code would stay with this module's globals).
    g = globals()
    del g['install'], g['_vm_builtins']
