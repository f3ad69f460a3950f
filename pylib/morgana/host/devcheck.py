# Devices checked at configure time (host side): the code of a config file that runs in
# the unikernel (everything but its config(c) function) may only use the devices config(c)
# declared. A syntactic check of the file with ast, no evaluation:
#   env.stack                 needs c.network()
#   env.kv                    needs c.kv(...)
#   env.block, env.blocks     need c.block(...)
#   env.storage, env.stores   need c.storage(...)
#   X.start_server, X.open_connection (asyncio streams), `from ... import start_server`,
#   net.default() / morgana.net.default(), importing a web framework (microdot)
#                             need c.network()
# "env" is any name `env`, the first parameter of main whatever its name, and `X.env`
# (self.env); getattr(env, "stack") counts too. Limits: an Env reached under another name
# (passed as `e` to a helper, stored in a dict), a device used only by another module the
# app imports (including a package's own start_server), or a name built at run time are
# not seen; a stream call on some other object with the same attribute name is refused
# (declare the network or rename it).
import ast

from morgana.host.config import ConfigError

# env attribute -> (cfg key, device, what to declare)
ENV_DEVICES = {
    "stack": ("network", "network", "c.network()"),
    "kv": ("kv", "key-value store", "c.kv(ROOT)"),
    "block": ("blocks", "block device", "c.block(IMAGE)"),
    "blocks": ("blocks", "block device", "c.block(IMAGE)"),
    "storage": ("storage", "storage volume", "c.storage(NAME)"),
    "stores": ("storage", "storage volume", "c.storage(NAME)"),
}
STREAM_CALLS = ("start_server", "open_connection")
WEB_FRAMEWORKS = ("microdot",)
NETWORK = ("network", "network", "c.network()")


class _Scan(ast.NodeVisitor):
    def __init__(self, env_names):
        self.env_names = env_names
        self.where = ["the top level"]
        self.uses = []               # (line, what, (cfg key, device, declare))

    def _use(self, node, what, dev):
        self.uses.append((node.lineno, self.where[-1], what, dev))

    def _func(self, node):
        self.where.append(node.name)
        self.generic_visit(node)
        self.where.pop()

    visit_FunctionDef = _func
    visit_AsyncFunctionDef = _func

    def _is_env(self, node):
        if isinstance(node, ast.Name):
            return node.id in self.env_names
        return isinstance(node, ast.Attribute) and node.attr == "env"

    def visit_Attribute(self, node):
        if node.attr in ENV_DEVICES and self._is_env(node.value):
            self._use(node, "uses env.%s" % node.attr, ENV_DEVICES[node.attr])
        elif node.attr in STREAM_CALLS:
            self._use(node, "uses %s.%s" % (_dotted(node.value), node.attr), NETWORK)
        elif node.attr == "default" and (
                (isinstance(node.value, ast.Name) and node.value.id == "net")
                or (isinstance(node.value, ast.Attribute) and node.value.attr == "net")):
            self._use(node, "uses %s.default()" % _dotted(node.value), NETWORK)
        self.generic_visit(node)

    def visit_Call(self, node):
        f = node.func
        args = node.args
        if isinstance(f, ast.Name) and f.id == "getattr" and len(args) >= 2 \
                and self._is_env(args[0]) and isinstance(args[1], ast.Constant) \
                and args[1].value in ENV_DEVICES:
            attr = node.args[1].value
            self._use(node, "uses getattr(env, %r)" % attr, ENV_DEVICES[attr])
        self.generic_visit(node)

    def visit_Import(self, node):
        for a in node.names:
            if a.name.split(".")[0] in WEB_FRAMEWORKS:
                self._use(node, "imports %s (a web framework)" % a.name, NETWORK)

    def visit_ImportFrom(self, node):
        mod = node.module or ""
        if node.level == 0 and mod.split(".")[0] in WEB_FRAMEWORKS:
            self._use(node, "imports from %s (a web framework)" % mod, NETWORK)
            return
        for a in node.names:
            if a.name in STREAM_CALLS:
                self._use(node, "imports %s from %s" % (a.name, mod), NETWORK)
            elif a.name == "default" and mod == "morgana.net":
                self._use(node, "imports default from morgana.net", NETWORK)


def _dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return _dotted(node.value) + "." + node.attr
    return "..."


def uses(src, filename="<config>"):
    """[(line, function, 'uses env.kv', (cfg key, device, declare))]: the device uses
    outside config(c), in line order."""
    tree = ast.parse(src, filename)
    env_names = {"env"}
    body = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name == "config":
                continue                 # runs on the host: c.* is not a device use
            if node.name == "main" and node.args.args:
                env_names.add(node.args.args[0].arg)
        body.append(node)
    scan = _Scan(env_names)
    for node in body:
        scan.visit(node)
    return sorted(scan.uses, key=lambda u: u[0])


def check(src, config_file, cfg):
    """ConfigError listing each use of a device that cfg (the resolved config) lacks."""
    bad = []
    for line, where, what, (key, device, declare) in uses(src, config_file):
        if cfg.get(key):
            continue
        bad.append("%s:%d: %s %s, but config(c) declares no %s: add %s to config(c)"
                   % (config_file, line, where, what, device, declare))
    if bad:
        raise ConfigError("\n".join(bad))
