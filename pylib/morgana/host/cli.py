# The `morgana` command (console script declared in pyproject.toml):
#   morgana configure configs/www.py --target unix-socket PORT=8080
#   morgana build      morgana run [--python cpython]      morgana clean
#   morgana targets    morgana options configs/www.py [--target T]
import argparse
import sys

from morgana.host import build
from morgana.host import config
from morgana.host import targets
from morgana.host.config import ConfigError


def _parser():
    p = argparse.ArgumentParser(prog="morgana", description="Configure, build and run "
                                "Morgana unikernels (Python on Xen).")
    p.add_argument("-B", "--build-dir", default=None,
                   help="build directory root (default ./build or $MORGANA_BUILD)")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")
    c = sub.add_parser("configure", help="evaluate a config for a target")
    c.add_argument("config", help="configs/NAME.py")
    c.add_argument("-t", "--target", default="unix-socket",
                   help="one of: %s (default unix-socket)" % ", ".join(sorted(
                       targets.TARGETS)))
    c.add_argument("options", nargs="*", metavar="KEY=VALUE")
    b = sub.add_parser("build", help="build the configured unikernel")
    b.add_argument("name", nargs="?", help="(default: the last configured)")
    b.add_argument("-j", "--jobs", type=int, default=2)
    r = sub.add_parser("run", help="run it (unix targets: in this terminal)")
    r.add_argument("name", nargs="?")
    r.add_argument("--python", default="micropython", choices=("micropython", "cpython"))
    k = sub.add_parser("clean", help="remove build/NAME")
    k.add_argument("name", nargs="?")
    sub.add_parser("targets", help="list the targets")
    o = sub.add_parser("options", help="list a config's options for a target")
    o.add_argument("config")
    o.add_argument("-t", "--target", default="unix-socket")
    return p


def _options(path, target):
    cfg = config.load(path, target, {})
    for k in sorted(cfg["option_specs"]):
        kind, default, help, choices = cfg["option_specs"][k]
        extra = " (%s)" % "|".join(str(x) for x in choices) if choices else ""
        print("  %-12s %-6s default %-14r %s%s" % (k, kind, default, help, extra))


def main(argv=None):
    p = _parser()
    # KEY=VALUE may come after --target: argparse leaves those for us
    args, rest = p.parse_known_args(sys.argv[1:] if argv is None else argv)
    if rest and args.cmd != "configure":
        p.error("unrecognized arguments: %s" % " ".join(rest))
    try:
        if args.cmd == "configure":
            build.configure(args.config, args.target,
                            config.parse_assignments(args.options + rest),
                            args.build_dir)
        elif args.cmd == "build":
            build.build(args.build_dir, args.name, args.jobs)
        elif args.cmd == "run":
            build.run(args.build_dir, args.name, args.python)
        elif args.cmd == "clean":
            build.clean(args.build_dir, args.name)
        elif args.cmd == "targets":
            for name in sorted(targets.TARGETS):
                print("  %-12s %s" % (name, targets.TARGETS[name].help))
        elif args.cmd == "options":
            _options(args.config, args.target)
        else:
            _parser().print_help()
            return 2
    except ConfigError as e:
        sys.stderr.write("morgana: error: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
