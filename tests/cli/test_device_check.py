# Devices checked at configure time: code of a config file that runs in the unikernel
# (everything but config(c)) using a device that config(c) did not declare is refused,
# naming the device, the line and what to declare; declared ones pass; every config of
# the tree still configures.
import glob
import os
import re

import pytest

from cli_helpers import TOP, morgana
from morgana.host import config, devcheck
from morgana.host.config import ConfigError


def _config_file(tmp_path, body, declare="pass", name="dev1.py"):
    d = tmp_path / "proj" / "configs"
    d.mkdir(parents=True, exist_ok=True)
    (tmp_path / "proj" / "htdocs").mkdir(exist_ok=True)
    (tmp_path / "proj" / "htdocs" / "a.txt").write_text("a")
    (tmp_path / "proj" / "disk.img").write_bytes(b"\0" * 4096)
    p = d / name
    p.write_text("def config(c):\n    %s\n\n\n%s" % (declare, body))
    return str(p)


# (the code after config(c), device named in the error, what to declare, line of the use,
# what the error says the code does)
UNDECLARED = [
    ("async def main(env):\n    await env.stack.udp_bind(53)\n",
     "network", "c.network()", 6, "main uses env.stack"),
    ("async def main(env):\n    return env.kv.names()\n",
     "key-value store", "c.kv(ROOT)", 6, "main uses env.kv"),
    ("async def main(env):\n    await env.block.read(0, 1)\n",
     "block device", "c.block(IMAGE)", 6, "main uses env.block"),
    ("async def main(env):\n    x = 1\n    return env.blocks['disk0']\n",
     "block device", "c.block(IMAGE)", 7, "main uses env.blocks"),
    ("async def main(e):\n    helper(e)\n\n\ndef helper(env):\n    return env.stack\n",
     "network", "c.network()", 10, "helper uses env.stack"),
    ("async def main(e):\n    return e.stack\n",
     "network", "c.network()", 6, "main uses env.stack"),
    ("class App:\n    def go(self):\n        return self.env.kv\n\n\n"
     "async def main(env):\n    pass\n",
     "key-value store", "c.kv(ROOT)", 7, "go uses env.kv"),
    ("async def main(env):\n    return getattr(env, 'stack')\n",
     "network", "c.network()", 6, "main uses getattr(env, 'stack')"),
    ("import asyncio\n\n\nasync def main(env):\n"
     "    await asyncio.start_server(lambda r, w: None, '0.0.0.0', 80)\n",
     "network", "c.network()", 9, "main uses asyncio.start_server"),
    ("async def main(env):\n    import asyncio\n"
     "    r, w = await asyncio.open_connection('10.0.0.1', 80)\n",
     "network", "c.network()", 7, "main uses asyncio.open_connection"),
    ("from asyncio import start_server\n\n\nasync def main(env):\n    pass\n",
     "network", "c.network()", 5, "the top level imports start_server from asyncio"),
    ("async def main(env):\n    from microdot import Microdot\n",
     "network", "c.network()", 6, "main imports from microdot (a web framework)"),
    ("async def main(env):\n    import microdot\n",
     "network", "c.network()", 6, "main imports microdot (a web framework)"),
    ("async def main(env):\n    from morgana import net\n    return net.default()\n",
     "network", "c.network()", 7, "main uses net.default()"),
]


@pytest.mark.parametrize("body,device,declare,line,what", UNDECLARED)
def test_undeclared_device_refused(tmp_path, body, device, declare, line, what):
    p = _config_file(tmp_path, body)
    with pytest.raises(ConfigError) as e:
        config.load(p, "unix-socket")
    assert str(e.value) == ("%s:%d: %s, but config(c) declares no %s: add %s to "
                            "config(c)" % (p, line, what, device, declare))


DECLARE = {"network": "c.network()", "key-value store": "c.kv('htdocs')",
           "block device": "c.block('disk.img')"}


@pytest.mark.parametrize("body,device,declare,line,what", UNDECLARED)
def test_declared_device_passes(tmp_path, body, device, declare, line, what):
    p = _config_file(tmp_path, body, DECLARE[device])
    cfg = config.load(p, "unix-socket")
    assert cfg["has_main"]


def test_every_use_listed_and_config_itself_ignored(tmp_path):
    body = ("async def main(env):\n    env.kv.names()\n    await env.stack.x()\n")
    # config(c) may mention env-like names freely: it runs on the host
    p = _config_file(tmp_path, body,
                     "env = c\n    env.stack = 1\n    c.start_server = None")
    with pytest.raises(ConfigError) as e:
        config.load(p, "unix-socket")
    lines = str(e.value).splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(":8: main uses env.kv, but config(c) declares no key-value "
                             "store: add c.kv(ROOT) to config(c)")
    assert "declares no network" in lines[1] and ":9: " in lines[1]


def test_other_stack_attributes_not_env_pass(tmp_path):
    # `stack` of something that is not the Env is not a device use
    body = ("class Parser:\n    def __init__(self):\n        self.stack = []\n\n\n"
            "async def main(env):\n    p = Parser()\n    p.stack.append(env.get('MEM'))\n")
    assert config.load(_config_file(tmp_path, body), "unix-socket")["has_main"]


def test_morgana_configure_refuses(tmp_path, bdir):
    p = _config_file(tmp_path, "async def main(env):\n    await env.stack.x()\n")
    r = morgana(bdir, "configure", p, check=False)
    assert r.returncode == 1
    assert re.search(r"dev1\.py:6: main uses env\.stack, but config\(c\) declares no "
                     r"network: add c\.network\(\) to config\(c\)", r.stderr), r.stderr
    assert not os.path.exists(os.path.join(str(bdir), "dev1"))


def test_uses_reports_lines():
    src = "def config(c):\n    pass\nasync def main(env):\n    return env.kv\n"
    assert devcheck.uses(src) == [(4, "main", "uses env.kv", devcheck.ENV_DEVICES["kv"])]


TREE_CONFIGS = sorted(glob.glob(os.path.join(TOP, "configs", "*.py"))
                      + glob.glob(os.path.join(TOP, "tests", "xen", "configs", "*.py")))


@pytest.mark.parametrize("path", TREE_CONFIGS, ids=os.path.basename)
@pytest.mark.parametrize("target", ["unix-socket", "xen-x86_64"])
def test_tree_configs_still_configure(path, target):
    cfg = config.load(path, target)
    assert cfg["name"] == os.path.basename(path)[:-3]
