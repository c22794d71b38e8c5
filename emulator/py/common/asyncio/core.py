# asyncio's scheduler, written from MicroPython's docs (library/asyncio.rst) on top of the firmware's _asyncio C
# module: Task and TaskQueue (a pairing heap keyed by ticks_ms) come from C, and the C Task reads three names of
# this module's globals: cur_task, _task_queue and CancelledError. The conventions the C code sets for a task:
#   state  True: running, nobody awaits it; a TaskQueue: the tasks awaiting it; None: done, nobody awaited it;
#          False: done and awaited; anything else: the object that gathers it (gather() in funcs.py)
#   data   while scheduled: None, or the exception to throw into it (cancel()); while it waits: what it waits
#          on (a Task, or an object with remove(task) that cancel() calls); once done: the StopIteration
#          holding its return value, or the exception it raised (`await task` raises it)
#
# A run of the loop (asyncio.run, Loop.run_until_complete, Loop.run_forever) is a _Run, advanced by _step(): it
# runs what is due and says how long to wait for the next thing. The waits happen on the host (_hostloop), so
# an idle board takes no CPU and Ctrl-C, IRQs and ThreadSafeFlag.set() end them. A program that the host runs
# itself (main.py, a raw-REPL exec) has its top-level asyncio.run() driven by the host, one step per call
# from the host: between steps no Python frame is active, which is when this VM can collect garbage.
import select as _select
import sys as _sys
import time as _time
import micropython as _micropython
from _asyncio import Task, TaskQueue
import _hostloop

# The host's functions, looked up once: a lookup on a JavaScript module allocates, and the loop must not (the
# heap may be locked, as in an IRQ handler or around micropython.heap_lock()).
_wait = _hostloop.wait
_wake = _hostloop.wake


class CancelledError(BaseException):
    pass


class TimeoutError(Exception):
    pass


cur_task = None
_task_queue = TaskQueue()
_ticks = _time.ticks_ms
_ticks_add = _time.ticks_add
_ticks_diff = _time.ticks_diff

# What _step() returns when its run is over.
_OVER = -2
# A step hands control back to the host at least this often (ms), so it can collect garbage, serve the link
# and its peripherals, and notice Ctrl-C, however busy the tasks are.
_STEP_MS = 10
# The loop's waits end at least once a tick (ms), so that the tasks an IRQ callback queued (Event.set() from a
# soft IRQ, which the docs advise against but which works on the ports) run, and what micropython.schedule()
# queued outside any IRQ runs. While a task waits on a stream the tick is shorter: a UART's input does not end
# the host's wait. ThreadSafeFlag.set(), link input (Ctrl-C) and resets end a wait at once; IRQ handlers run
# inside it, as the firmware's poll hook runs them inside its wait. Idle, a board of three sleeping tasks takes
# about 1% of a core (bench/asyncio.ts).
_TICK_MS = 10
_IDLE_TICK_MS = 50


class _Sleep:
    # The awaitable of sleep_ms(): one object reused by every sleep, so that sleeping allocates nothing (a
    # board's heap is small, and a busy loop of tasks would otherwise fill it with garbage).
    def __init__(self):
        self.due = None
        self.over = StopIteration()

    def __iter__(self):
        return self

    def __next__(self):
        if self.due is None:
            # Resumed after the sleep: the await is over.
            self.over.__traceback__ = None
            raise self.over
        _task_queue.push(cur_task, self.due)
        self.due = None


_sleeper = _Sleep()


def sleep_ms(t):
    _sleeper.due = _ticks_add(_ticks(), max(0, t))
    return _sleeper


def sleep(t):
    return sleep_ms(int(t * 1000))


# ---- streams and flags waited on --------------------------------------------------------------------------


class _IOQueue:
    # Tasks waiting for a stream to be readable or writable (select.poll on it), and for ThreadSafeFlags.
    def __init__(self):
        self.poller = _select.poll()
        self.waiting = {}  # id(stream) -> [stream, reader task, writer task]
        self.flags = []  # ThreadSafeFlags a task waits on

    def _update(self, entry):
        ev = (_select.POLLIN if entry[1] else 0) | (_select.POLLOUT if entry[2] else 0)
        if ev:
            self.poller.register(entry[0], ev)
        else:
            self.poller.unregister(entry[0])
            del self.waiting[id(entry[0])]

    def queue(self, s, idx):
        entry = self.waiting.get(id(s))
        if entry is None:
            entry = self.waiting[id(s)] = [s, None, None]
        if entry[idx] is not None:
            raise RuntimeError('stream already waited on')
        entry[idx] = cur_task
        cur_task.data = self
        self._update(entry)

    def queue_flag(self, flag):
        self.flags.append(flag)
        cur_task.data = self

    def remove(self, task):
        # A waiting task was cancelled (Task.cancel() calls this through task.data).
        for entry in list(self.waiting.values()):
            for idx in (1, 2):
                if entry[idx] is task:
                    entry[idx] = None
                    self._update(entry)
                    return
        for f in self.flags:
            if f._waiter is task:
                f._waiter = None
                self.flags.remove(f)
                return

    def poll(self):
        # Schedule the tasks whose stream or flag is ready; never blocks.
        flags = self.flags
        i = len(flags)
        while i:
            i -= 1
            f = flags[i]
            if f._state:
                flags.pop(i)
                t = f._waiter
                f._waiter = None
                _task_queue.push(t)
        if not self.waiting:
            return
        for s, ev in self.poller.ipoll(0):
            entry = self.waiting[id(s)]
            if ev & ~_select.POLLOUT and entry[1] is not None:
                _task_queue.push(entry[1])
                entry[1] = None
            if ev & ~_select.POLLIN and entry[2] is not None:
                _task_queue.push(entry[2])
                entry[2] = None
            self._update(entry)


_io_queue = _IOQueue()


def _wait_io(s, idx):
    _io_queue.queue(s, idx)
    yield


# ---- tasks ------------------------------------------------------------------------------------------------


def create_task(coro):
    if not hasattr(coro, 'send'):
        raise TypeError('coroutine expected')
    t = Task(coro, globals())
    _task_queue.push(t)
    return t


def _promote(aw):
    return aw if isinstance(aw, Task) else create_task(aw)


def current_task():
    if cur_task is None:
        raise RuntimeError('no running event loop')
    return cur_task


class _Run:
    # One run of the loop: until its main task is done (asyncio.run, run_until_complete), or until
    # Loop.stop() (run_forever, main None).
    def __init__(self, main):
        self.main = main
        self.stopped = False

    def over(self):
        return self.stopped if self.main is None else self.main.done()

    def result(self):
        if self.main is None:
            return None
        done = self.main.data
        if isinstance(done, StopIteration):
            return done.value
        raise done


_run = None  # the innermost run in progress


def _finish(t, exc, run):
    # Task t ended with exc (a StopIteration holding what it returned, or what it raised).
    waiting = t.state
    t.data = exc
    if waiting is True:
        t.state = None
        if t is not run.main and not isinstance(exc, StopIteration) and not isinstance(exc, CancelledError):
            # Nobody awaits it (yet): once the loop comes back to it and that is still so, its exception is
            # reported (Loop.call_exception_handler), as the firmware does. (push() clears data.)
            _task_queue.push(t)
            t.data = exc
    elif isinstance(waiting, TaskQueue):
        t.state = False
        while waiting.peek():
            _task_queue.push(waiting.pop())
    else:
        t.state = False
        waiting._ended(t, exc)


def _step(run):
    # Run the tasks that are due, for at most _STEP_MS; returns how long to wait (ms, or -1 for an event only)
    # before the next step, or _OVER once the run is over.
    global cur_task
    until = _ticks_add(_ticks(), _STEP_MS)
    q = _task_queue
    while True:
        io = _io_queue
        if io.flags or io.waiting:
            io.poll()
        if run.over():
            return _OVER
        t = q.peek()
        if t is None:
            return _TICK_MS if io.waiting else _IDLE_TICK_MS
        now = _ticks()  # (once per task: the clock is a call out to the host)
        dt = _ticks_diff(t.ph_key, now)
        if dt > 0:
            return min(dt, _TICK_MS if io.waiting else _IDLE_TICK_MS)
        if _ticks_diff(now, until) >= 0:
            return 0
        q.pop()
        if t.done():
            if t.state is None:
                t.state = False
                Loop.call_exception_handler(
                    {'message': "Task exception wasn't retrieved", 'exception': t.data, 'future': t})
            continue
        cur_task = t
        try:
            exc = t.data
            if exc is None:
                t.coro.send(None)
            else:
                t.data = None
                t.coro.throw(exc)
        except Exception as e:  # (two clauses: a tuple of classes would allocate)
            _finish(t, e, run)
        except CancelledError as e:
            _finish(t, e, run)
        finally:
            cur_task = None


def _block(run):
    # A run called from Python code (a task, a function, the REPL): the loop runs here, inside that call,
    # waiting on the host between steps.
    global _run, cur_task
    outer, caller = _run, cur_task
    _run = run
    try:
        while True:
            w = _step(run)
            if w == _OVER:
                return run.result()
            _wait(w)
    finally:
        _run, cur_task = outer, caller


def run_until_complete(main_task=None):
    return _block(_Run(_promote(main_task)))


def run(coro):
    return run_until_complete(create_task(coro))


class Loop:
    # The one event loop (get_event_loop() returns this class; its methods are static).
    _exc_handler = None

    def create_task(coro):
        return create_task(coro)

    def run_forever():
        _block(_Run(None))

    def run_until_complete(aw):
        return run_until_complete(aw)

    def stop():
        if _run is not None:
            _run.stopped = True

    def close():
        pass

    def set_exception_handler(handler):
        Loop._exc_handler = handler

    def get_exception_handler():
        return Loop._exc_handler

    def default_exception_handler(loop, context=None):
        context = loop if context is None else context
        print(context['message'], file=_sys.stderr)
        print('future:', context['future'], 'coro=', context['future'].coro, file=_sys.stderr)
        _sys.print_exception(context['exception'], _sys.stderr)

    def call_exception_handler(context):
        (Loop._exc_handler or Loop.default_exception_handler)(Loop, context)


def get_event_loop(runq_len=0, waitq_len=0):
    return Loop


def new_event_loop():
    # The firmware has one loop: this resets it (its tasks are dropped) and returns it.
    global _task_queue, _io_queue, _run, cur_task
    _task_queue = TaskQueue()
    _io_queue = _IOQueue()
    _run = None
    cur_task = None
    return Loop


# ---- the host drives a program's top-level runs -----------------------------------------------------------
# The host rewrites a program's top-level `asyncio.run(main())` (or loop.run_until_complete / run_forever) into
# `await RUN(asyncio.run, main())` (RUN: a hook, a bytes literal made _host_run in the compiled program's
# constants) and compiles the program with top-level await: it becomes a generator, which the host resumes with
# _host_advance(), one call at a time, from outside any Python frame.

_program = None  # the host-driven program (a generator), while it runs
_program_src = None
_program_run = None  # the run it awaits, while the host steps it
_bind = None  # binds a compiled program's RUN hook (entry-rewrite.ts)


def _entry(fn):
    return fn is run or fn is Loop.run_until_complete or fn is Loop.run_forever


def _host_run(fn, *args, **kw):
    # The program's rewritten top-level call: a run of the loop is handed to the host; anything else (a name
    # the program rebound, a run started while another runs) is called as written.
    if _entry(fn) and _run is None and cur_task is None:
        return (yield (fn, args, kw))
    return fn(*args, **kw)


def _host_load(src, name):
    global _program_src
    _program_src = (src, name)


def _host_compile():
    # Called while the host compiles with top-level await allowed (its runPythonAsync): only here.
    global _program, _program_src
    global _bind
    import __main__
    if _bind is None:
        # The runtime's own helpers, imported once (and out of sys.modules again, where a program would see it).
        import _board
        import _patch
        _sys.modules.pop('_patch', None)
        _bind = lambda code: _patch.bind_constants(code, {b'\0' + _board.hook_mark.encode() + b'run': _host_run})
    src, name = _program_src
    _program_src = None
    code = compile(src, name, 'exec')
    _bind(code)
    _program = exec(code, __main__.__dict__)


def _host_end():
    global _program, _program_run, _run
    _program = _program_run = _run = None


def _unlock_heap():
    # Allocating fails while the heap is locked. heap_unlock() returns the depth left; on a heap that was not
    # locked (only full) it wraps the depth round to its maximum, which heap_lock() undoes. (Unlocking until it
    # returned 0 took 32767 calls on an unlocked heap, 30 ms of every run that raised.)
    try:
        bytearray(1)
    except MemoryError:
        d = _micropython.heap_unlock()
        if d > 255:
            _micropython.heap_lock()
            return
        while d:
            d = _micropython.heap_unlock()


def _host_resume(value, exc):
    # Resume the program (with what its run returned, or raising what ended it), up to its next run or end.
    global _program_run, _run, cur_task
    _program_run = _run = cur_task = None
    try:
        req = _program.send(value) if exc is None else _program.throw(exc)
    except StopIteration:
        _host_end()
        return _OVER
    except BaseException:
        _host_end()
        # The host reports it, which allocates: a heap the program left locked would hang the VM there.
        _unlock_heap()
        raise
    fn, args, kw = req
    if fn is run:
        main = create_task(*args, **kw)
    elif fn is Loop.run_until_complete:
        main = _promote(*args, **kw)
    else:
        main = None
    _program_run = _run = _Run(main)
    return 0


def _host_advance():
    # One step of the host-driven program: ms to wait before the next call (-1: until an event), or _OVER
    # when the program has ended; what the program raised comes out of here. (The try comes first: a Ctrl-C
    # the host noticed between steps is raised at the first jump.)
    try:
        value = exc = None
        run = _program_run
        if run is not None:
            w = _step(run)
            if w != _OVER:
                return w
            value = run.result()
    except BaseException as e:
        # What ended the run (its main task's exception, or Ctrl-C / SystemExit while tasks ran) is raised
        # where the program awaits it, as it ends asyncio.run() on the board.
        exc = e
    return _host_resume(value, exc)
