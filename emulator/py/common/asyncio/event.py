# Event and ThreadSafeFlag, written from MicroPython's docs (library/asyncio.rst).
from . import core


class Event:
    def __init__(self):
        self.state = False
        self.waiting = core.TaskQueue()

    def is_set(self):
        return self.state

    def set(self):
        # From a task only (the docs): IRQs and scheduled callbacks use a ThreadSafeFlag.
        while self.waiting.peek():
            core._task_queue.push(self.waiting.pop())
        self.state = True

    def clear(self):
        self.state = False

    def wait(self):
        # (A generator: awaited as `await event.wait()`.)
        if not self.state:
            self.waiting.push(core.cur_task)
            core.cur_task.data = self.waiting
            yield
        return True


class ThreadSafeFlag:
    # set() may run anywhere, an IRQ handler included: it only marks the flag and wakes the loop's wait on the
    # host; the loop looks at the flags a task waits on before each task it runs.
    def __init__(self):
        self._state = 0
        self._waiter = None

    def set(self):
        self._state = 1
        core._wake()

    def clear(self):
        self._state = 0

    def wait(self):
        # (A generator: awaited as `await flag.wait()`.)
        if not self._state:
            if self._waiter is not None:
                raise RuntimeError('flag already waited on')
            self._waiter = core.cur_task
            core._io_queue.queue_flag(self)
            yield
        self._state = 0
