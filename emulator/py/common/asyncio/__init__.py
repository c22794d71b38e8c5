# asyncio as the MicroPython ports have it (v1.27), written from MicroPython's docs (library/asyncio.rst).
from .core import *
from .funcs import gather, wait_for, wait_for_ms
from .event import Event, ThreadSafeFlag
from .lock import Lock
from .stream import Stream, StreamReader, StreamWriter, Server, open_connection, start_server

__version__ = (3, 0, 0)
