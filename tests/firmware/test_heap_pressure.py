"""A heap too small for a sale (the unix port with -X heapsize, no collection forced) makes sales
fail, never lie: the results a terminal shows under MemoryErrors are held against the gateway's
word. The run is bench/bench_heap.py's capped run (bench/heap_device.py: the application booted
from the deploy's .mpy files, whole sales against an in-process gateway that checks and signs),
at a cap that leaves a sale too little room."""
import os
import sys

import pytest

from tests.mpy import ROOT

pytestmark = pytest.mark.slow

sys.path.insert(0, os.path.join(ROOT, "bench"))
import bench_heap  # noqa: E402


@pytest.fixture(scope="module")
def port():
    files = bench_heap.device_files()
    files["/lib/heap_device.mpy"] = bench_heap.harness_mpy()
    unix = bench_heap.UnixPort(files)
    yield unix
    unix.close()


def capped(port, cap, n):
    out = port.run(bench_heap.UNIX_SALES % {"root": os.path.join(port.dir, "flash-%d" % cap), "n": n}, heapsize=cap)
    return {key: int(out.split(key)[1].split()[0]) for key in ("ERRORS", "WRONG", "HELD")}, out


def test_a_heap_too_small_for_a_sale_never_shows_a_result_the_gateway_did_not_give(port):
    boot = int(port.run(bench_heap.UNIX_SALES % {"root": os.path.join(port.dir, "flash-boot"), "n": 0})
               .split("BOOT")[1].split()[0])
    harness = int(port.run(bench_heap.UNIX_HARNESS).split("HARNESS")[1].split()[0])
    under_pressure = 0  # results shown in runs that also had MemoryErrors
    # From a heap where no sale finds room to one where most do: each fails somewhere else.
    for room in (1.55, 1.65, 1.72, 1.75, 1.78):
        result, out = capped(port, harness + int(boot * room), 16)
        assert "BOOT-FAILED" not in out, out[-2000:]
        assert result["WRONG"] == 0, out[-2000:]
        if result["ERRORS"]:
            under_pressure += result["HELD"]
    assert under_pressure > 0, "no result was shown in a run with MemoryErrors: the caps test nothing (move them)"
