# asyncio for Morgana: MicroPython's asyncio API as a layer over morgana.sched (one
# scheduler on every target; see docs/design.md "asyncio"). `import asyncio` gets this
# on MicroPython targets through pylib/compat/asyncio; CPython code imports morgana.aio.
from morgana.aio.core import (CancelledError, TimeoutError, InvalidStateError, Task, Loop,
                              create_task, ensure_future, current_task, sleep, sleep_ms,
                              run, run_until_complete, get_event_loop, get_running_loop,
                              new_event_loop, set_event_loop)
from morgana.aio.funcs import wait_for, wait_for_ms, gather
from morgana.aio.sync import Event, Lock, ThreadSafeFlag
from morgana.aio.streams import (Stream, StreamReader, StreamWriter, Server,
                                 IncompleteReadError, open_connection, start_server)

__version__ = (3, 0, 0)
