"""python -m tools.sim <command>: the terminal simulator's commands.

    snapshot   render one screen through the real driver into the panel emulator, save a PNG
    run        run one simulated terminal (the real firmware) against a gateway (tools/sim/terminal.py)

Each command lives in its own module and registers an argparse subparser (`add_parser`).
"""
import argparse
import sys

from tools.sim import snapshot
from tools.sim import terminal


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m tools.sim", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    snapshot.add_parser(sub)
    terminal.add_parser(sub)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as e:  # bad panel name, unknown screen: a clear message, not a traceback
        print("error: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
