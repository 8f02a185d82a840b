"""Fault scenarios: parse `[fault:NAME]` / `[fault:NAME=ARG]` markers (docs/sandbox.md lists them).

A payment's faults are a dict NAME -> number: a count for the "first N calls" kinds (default 1), or
seconds for the timing kinds. Counts are consumed through the store, so they survive a restart.
"""
import re

from tools.sandbox.rules import param

MARKER = re.compile(r"\[fault:([a-z0-9-]+)(?:=([^\]\s]+))?\]")

COUNTED = {"pay-lost", "pay-500", "pay-unknown", "traffic-limit", "http-500", "inquiry-not-exist",
           "inquiry-unknown", "cancel-unknown", "notify-bad-signature"}
FLAGS = {"cancel-window", "pay-on-cancel", "notify-lost", "notify-duplicate"}
SECONDS = {"slow", "notify-late", "skew"}
PERCENT = {"rate-move"}  # a signed percentage
KNOWN = COUNTED | FLAGS | SECONDS | PERCENT
MAX_SECONDS = 10 ** 7  # ~4 months: any sane delay, late notification or clock skew


def parse_one(name: str, arg: str | None) -> tuple[str, float]:
    if name not in KNOWN:
        raise param("unknown fault marker %r" % name)
    if name in SECONDS:
        try:
            seconds = float(arg)
        except (TypeError, ValueError):
            raise param("fault %s needs a number of seconds" % name)
        # nan/inf or a huge skew would break the reply's response-time (a 500), or sleep forever
        if not abs(seconds) <= MAX_SECONDS:
            raise param("fault %s needs seconds between -%d and %d" % (name, MAX_SECONDS, MAX_SECONDS))
        return name, seconds
    if name in PERCENT:
        try:
            percent = float(arg)
        except (TypeError, ValueError):
            raise param("fault %s needs a percentage" % name)
        if not abs(percent) <= 50:
            raise param("fault %s needs a percentage between -50 and 50" % name)
        return name, percent
    if name in FLAGS:
        if arg is not None:
            raise param("fault %s takes no argument" % name)
        return name, 1
    if arg is None:
        return name, 1
    if not arg.isdigit():
        raise param("fault %s needs a whole count" % name)
    return name, int(arg)


def parse_spec(spec: str) -> tuple[str, float]:
    """`NAME` or `NAME=ARG`, as given to --fault or the admin endpoint."""
    name, _, arg = spec.strip().partition("=")
    return parse_one(name, arg or None)


def parse_cli(spec: str) -> tuple[str | None, str, float]:
    """`NAME[=ARG][@AMOUNT]` from `serve --fault`: (amount or None, name, arg)."""
    spec, _, amount = spec.partition("@")
    if amount and not amount.isdigit():
        raise param("@AMOUNT must be minor units (digits)")
    return (amount or None,) + parse_spec(spec)


def from_description(description: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for match in MARKER.finditer(description):
        name, value = parse_one(match.group(1), match.group(2))
        found[name] = value
    return found
