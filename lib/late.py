"""Modules that load late and are dropped after use, so their bytecode leaves the heap.

On the device a module imported from a .mpy file keeps its bytecode, constants and names on the
heap for as long as it is in sys.modules. Code needed once (the config checker at boot) or
rarely (the QR encoder, once per sale) is imported where it is used and dropped afterwards:

    import uqr
    rows = uqr.make(text)
    late.drop("uqr")          # freed at the next collection, imported again next time

    report = late.load("report")   # imported after a collection, unless it is loaded already

The collector frees a dropped module only when nothing else refers to it: no function or class
of it may be kept (an instance of a class with methods keeps the whole module). On CPython (the
host and its tests) nothing is dropped: host code may hold the module's classes, and a second
import would make new ones.
"""
import sys

_ON_DEVICE = sys.implementation.name == "micropython"


def drop(name):
    """Forget module `name` (and its attribute on the parent package); True if it was loaded."""
    if not _ON_DEVICE:
        return False
    mod = sys.modules.pop(name, None)
    if mod is None:
        return False
    dot = name.rfind(".")
    if dot > 0:
        parent = sys.modules.get(name[:dot])
        if parent is not None:
            try:
                delattr(parent, name[dot + 1:])
            except (AttributeError, TypeError):
                pass
    return True


def load(name):
    """Module `name` (dotted), imported after a collection unless it is loaded already: its code
    then lands in the room the collection made, not in what garbage leaves between live objects."""
    mod = sys.modules.get(name)
    if mod is None:
        collect()
        __import__(name)
        mod = sys.modules[name]
    return mod


def collect():
    """Collect now (on the device), at the end of a phase, after its modules were dropped: the next
    phase then allocates in the space they left, at the bottom of the heap. Left to itself the
    collector runs only when an allocation fails, when garbage and live objects lie interleaved
    across the whole heap, and what it frees is in pieces too small for a module's next import."""
    if _ON_DEVICE:
        import gc
        gc.collect()
