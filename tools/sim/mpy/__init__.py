"""Hardware stand-ins for the simulator's MicroPython engine (machine, network, the key matrix) and
its link to the host. This folder is put first on the MicroPython process's path; tools/sim/mpy/
simevents.py is also imported by the host. Never shipped to a device."""
