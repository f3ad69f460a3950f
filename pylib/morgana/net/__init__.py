# morgana.net: the TCP/IP stack, one module per protocol (see docs/design.md).


class Drop(Exception):
    """A malformed or unwanted input. `reason` names the counter the stack bumps."""

    def __init__(self, reason):
        Exception.__init__(self, reason)
        self.reason = reason
