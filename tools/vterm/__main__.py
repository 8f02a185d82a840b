"""Run a virtual terminal by hand: `python -m tools.vterm --root DIR [--link PATH]`."""
import argparse
import signal
import sys

from tools.vterm import VirtualTerminal


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.vterm", description=__doc__)
    parser.add_argument("--root", required=True, help="host folder holding the device's filesystem")
    parser.add_argument("--link", help="also reachable as this path (a symlink to the pty)")
    parser.add_argument("--size-limit", type=int, default=0, help="filesystem size in bytes (0: no limit)")
    parser.add_argument("--heap", type=int, default=256 * 1024, help="MicroPython heap in bytes")
    args = parser.parse_args(argv)
    vt = VirtualTerminal(args.root, size_limit=args.size_limit, heap=args.heap, link=args.link).start()
    print("virtual terminal on %s%s (Ctrl-C to stop)" % (vt.port, " -> " + args.link if args.link else ""), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        signal.pause()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        vt.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
