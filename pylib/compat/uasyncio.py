# MicroPython's legacy name for asyncio.
from morgana.aio import *
from morgana.aio import __version__
