# morgana.net: the TCP/IP stack, one module per protocol (see docs/design.md).


class Drop(Exception):
    """A malformed or unwanted input: Drop("ipv4_bad_csum"). `reason` names the counter
    the stack bumps in `stack.stats`."""

    @property
    def reason(self):
        return self.args[0]


# The unikernel's network stack, for code that is not handed one (asyncio's
# start_server/open_connection): the boot module registers env.stack here.
_default = None


def set_default(stack):
    global _default
    _default = stack


def default():
    """The stack registered by the boot module, or None (no c.network() in the config)."""
    return _default
