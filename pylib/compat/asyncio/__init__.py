# `import asyncio` on MicroPython targets (pylib/compat is on their module path, never on
# CPython's): Morgana's asyncio over morgana.sched, not MicroPython's extmod/asyncio.
from morgana.aio import *
from morgana.aio import __version__
