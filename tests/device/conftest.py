# The modules here run inside MicroPython (tests/mpy run_tests), not under pytest directly.
collect_ignore_glob = ["test_*.py"]
