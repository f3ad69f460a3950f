# One HTTP connection's deadline. Instead of wrapping every read and write in
# sched.with_timeout (a task per call), the connection keeps one moving deadline and a
# single watchdog task that sleeps until it; the server just pushes the deadline forward
# (a float store) as it reads and writes. When it passes, the watchdog cancels the
# connection's task, and the server turns that Cancelled into a timeout (c.fired).
# A deadline may also move earlier (30 s to write, then 15 s idle): the watchdog never
# sleeps longer than `tick`, so it notices within that (the server uses a quarter of its
# shortest timeout: at most 25% late, a wakeup every few seconds per connection).
from morgana import sched


class Conn:
    def __init__(self, flow, tick):
        self.flow = flow
        self.tick = tick
        self.peer = getattr(flow, "peer", None)
        self.task = sched.current()
        self.deadline = 0.0
        self.fired = False
        self.partial = False      # a request head has started arriving (408 on timeout)
        self.close_after = False  # the response's end is the connection's (HTTP/1.0 stream)
        self.idle = False         # waiting for the first byte of a request
        self.drained = False      # closed by the server's shutdown while idle
        self._dog = None

    def expire_in(self, seconds):
        """Time out unless the connection makes progress within seconds."""
        self.deadline = sched.now() + seconds
        if self._dog is None:
            self.fired = False
            self._dog = sched.spawn(self._watch(), "http-deadline")

    def expire_at(self, t):
        self.deadline = t
        if self._dog is None:
            self.fired = False
            self._dog = sched.spawn(self._watch(), "http-deadline")

    async def _watch(self):
        while True:
            left = self.deadline - sched.now()
            if left <= 0:
                break
            await sched.sleep(left if left < self.tick else self.tick)
        self._dog = None
        self.fired = True
        self.task.cancel()

    def stop(self):
        d = self._dog
        self._dog = None
        if d is not None:
            d.cancel()

    def read(self):
        return self.flow.read()

    def write(self, data):
        return self.flow.write(data)
