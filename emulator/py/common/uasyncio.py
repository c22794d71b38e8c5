# The name asyncio had before MicroPython v1.21; programs written for it keep working.
from asyncio import *
