# Lock, written from MicroPython's docs (library/asyncio.rst).
from . import core


class Lock:
    # state: 0 unlocked, 1 locked, or the waiting task the lock was just handed to (it is scheduled to run).
    def __init__(self):
        self.state = 0
        self.waiting = core.TaskQueue()

    def locked(self):
        return self.state == 1

    def release(self):
        if self.state != 1:
            raise RuntimeError('Lock not acquired')
        if self.waiting.peek():
            # The next waiter gets the lock; it stays locked meanwhile.
            self.state = self.waiting.pop()
            core._task_queue.push(self.state)
        else:
            self.state = 0

    def acquire(self):
        # (A generator: awaited as `await lock.acquire()`.)
        if self.state != 0:
            self.waiting.push(core.cur_task)
            core.cur_task.data = self.waiting
            try:
                yield
            except core.CancelledError:
                if self.state is core.cur_task:
                    # Handed the lock while being cancelled: pass it on.
                    self.state = 1
                    self.release()
                raise
        self.state = 1
        return True

    async def __aenter__(self):
        return await self.acquire()

    async def __aexit__(self, exc_type, exc, tb):
        self.release()
