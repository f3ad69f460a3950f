# morgana.net: the TCP/IP stack, one module per protocol (see docs/design.md).


class Drop(Exception):
    """A malformed or unwanted input: Drop("ipv4_bad_csum"). `reason` names the counter
    the stack bumps in `stack.stats`."""

    @property
    def reason(self):
        return self.args[0]
