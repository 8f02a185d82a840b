"""CPython stand-in for MicroPython's `micropython` module (tests and simulator only).

Copies: `const(x)` returns x unchanged (on the device the compiler inlines it); `native`, `viper`
and `asm_xtensa` are decorators that leave the function as it is (the emitters do not exist on
CPython, and the firmware must be correct without them); `mem_info()` prints a summary in the
device's format; `schedule(f, arg)` runs f soon (here: at once, as the device would on the next
bytecode boundary); `heap_lock()`/`heap_unlock()` keep a counter like the device's.
"""
import gc as _gc

_heap_locked = 0


def const(value):
    return value


def native(func):
    return func


def viper(func):
    return func


def asm_xtensa(func):
    return func


def opt_level(level=None):
    return 0 if level is None else None


def alloc_emergency_exception_buf(size):
    return None


def mem_info(verbose=None):
    # The device prints: "stack: N out of M\nGC: total: T, used: U, free: F". There is no fixed heap
    # on CPython, so report what the collector tracks.
    objects = len(_gc.get_objects())
    print("stack: 0 out of 15360")
    print("GC: total: 0, used: %d objects, free: 0" % objects)


def qstr_info(verbose=None):
    print("qstr pool: n_pool=0, n_qstr=0, n_str_data_bytes=0, n_total_bytes=0")


def stack_use():
    return 0


def heap_lock():
    global _heap_locked
    _heap_locked += 1
    return _heap_locked - 1


def heap_unlock():
    global _heap_locked
    _heap_locked = max(0, _heap_locked - 1)
    return _heap_locked


def heap_locked():
    return _heap_locked


def kbd_intr(char):
    return None


def schedule(func, arg):
    func(arg)
    return None
