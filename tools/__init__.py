"""Everything that runs on a computer: gateway, sandbox, simulator, technician tooling, demo.

Host Python 3.11 only. May import firmware/ and lib/ (the simulator runs the firmware) and tests/shims
(the simulator's hardware). Nothing here is ever copied to the device.
"""
