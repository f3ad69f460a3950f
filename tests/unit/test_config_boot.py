# morgana.boot, the runtime half of a generated _boot module (portable): Env options,
# devices set up before main, services keep running after main, errors propagate.
from morgana import boot, sched, plat_unix


class _App:
    def __init__(self, main=None):
        if main is not None:
            self.main = main


def test_env_options_and_devices_before_main():
    seen = []

    async def devices(env):
        await sched.sleep(0)
        env.kv = "the kv"

    async def main(env):
        seen.append((env.name, env.target, env.get("PORT"), env.kv))
        return "done"

    r = boot.start(plat_unix, _App(main), "www", "unix-socket", {"PORT": 8080}, devices)
    assert r == "done"
    assert seen == [("www", "unix-socket", 8080, "the kv")]


def test_env_get_names_missing_option():
    env = boot.Env("x", "unix-socket", {"A": 1, "B": 2})
    try:
        env.get("PORT")
    except KeyError as e:
        assert "PORT" in str(e) and "A, B" in str(e)
    else:
        raise AssertionError("missing option accepted")


def test_main_exception_propagates():
    async def devices(env):
        pass

    async def main(env):
        raise ValueError("app failed")

    try:
        boot.start(plat_unix, _App(main), "x", "unix-socket", {}, devices)
    except ValueError as e:
        assert str(e) == "app failed"
    else:
        raise AssertionError("exception lost")


def test_services_keep_running_after_main():
    ticks = []

    async def devices(env):
        pass

    async def ticker(env):
        for i in range(3):
            ticks.append(i)
            await sched.sleep(0.01)
        raise KeyboardInterrupt      # the only way out of a serving unikernel: stop it

    async def services(env):
        sched.spawn(ticker(env))

    async def main(env):
        ticks.append("main")

    try:
        boot.start(plat_unix, _App(main), "svc", "unix-socket", {}, devices, services)
    except KeyboardInterrupt:
        pass
    assert ticks == ["main", 0, 1, 2], ticks


def test_line_repl_evaluates_and_survives_errors():
    class In:
        def __init__(self, lines):
            self.lines = lines

        def readline(self):
            return self.lines.pop(0) if self.lines else ""

    class Out:
        def __init__(self):
            self.parts = []

        def write(self, s):
            self.parts.append(s)

    out = Out()
    boot.line_repl({"k": 20}, In(["1 + k\n", "x = 2\n", "\n", "1 / 0\n", "x * 3\n"]), out)
    text = "".join(out.parts)
    assert text == ">>> 21\n>>> >>> >>> ZeroDivisionError: " + text.split(
        "ZeroDivisionError: ")[1].split("\n")[0] + "\n>>> 6\n>>> \n", text
