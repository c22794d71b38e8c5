# gather() and wait_for(), written from MicroPython's docs (library/asyncio.rst). Awaitables that are generator
# functions here are awaited as they are (MicroPython's await is yield from).
from . import core


def _outcome(done):
    # What an ended task gave: its return value, or what it raised (raised here).
    if isinstance(done, StopIteration):
        return done.value
    raise done


def _relay(aw, waiter, st):
    # Awaits aw for a task in wait_for(): when aw ends first, the waiter is woken from its sleep (it resumes
    # normally, so a cancellation that reaches it later still counts). st: [0 waiting / 1 aw ended / 2 the
    # waiter left, aw's outcome]
    try:
        st[1] = StopIteration((yield from aw))
    except BaseException as e:
        st[1] = e
    if st[0] == 0 and waiter.data is None:
        st[0] = 1
        core._task_queue.remove(waiter)
        core._task_queue.push(waiter)


async def wait_for(aw, timeout, sleep=core.sleep):
    aw = core._promote(aw)
    if timeout is None:
        return await aw
    st = [0, None]
    relay = core.create_task(_relay(aw, core.cur_task, st))
    try:
        await sleep(timeout)
    except core.CancelledError:
        # Cancelled from outside: aw is cancelled too, and the cancellation goes on at once.
        st[0] = 2
        aw.cancel()
        raise
    if st[0] == 1:
        return _outcome(st[1])
    # The timeout passed: aw is cancelled, and given the time to end, before TimeoutError.
    st[0] = 2
    aw.cancel()
    await relay
    raise core.TimeoutError


def wait_for_ms(aw, timeout):
    return wait_for(aw, timeout, core.sleep_ms)


class _Gather:
    # What each gathered task has as its state while it runs: the loop tells it when one ends.
    def __init__(self, waiter, return_exceptions):
        self.waiter = waiter
        self.return_exceptions = return_exceptions
        self.left = 0
        self.error = None
        self.woken = False

    def _ended(self, t, exc):
        self.left -= 1
        failed = not isinstance(exc, StopIteration) and not self.return_exceptions
        if failed and self.error is None:
            self.error = exc
        if not self.woken and (failed or self.left == 0):
            self.woken = True
            core._task_queue.push(self.waiter)

    def remove(self, task):
        # The gathering task was cancelled (Task.cancel()): it is no longer to be woken.
        self.woken = True


def gather(*aws, return_exceptions=False):
    # (A generator: awaited as `await gather(...)`.)
    tasks = [core._promote(a) for a in aws]
    for t in tasks:
        if t.done():
            if not return_exceptions and not isinstance(t.data, StopIteration):
                raise t.data
        elif t.state is not True:
            raise RuntimeError("can't gather")
    g = _Gather(core.cur_task, return_exceptions)
    for t in tasks:
        if not t.done():
            t.state = g
            g.left += 1
    if g.left:
        core.cur_task.data = g
        try:
            yield
        except core.CancelledError:
            for t in tasks:
                t.cancel()
            raise
        finally:
            for t in tasks:
                if t.state is g:
                    t.state = True
    if g.error is not None:
        raise g.error
    out = []
    for t in tasks:
        done = t.data
        if isinstance(done, StopIteration):
            out.append(done.value)
        elif return_exceptions:
            out.append(done)
        else:
            raise done
    return out
