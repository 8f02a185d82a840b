"""Technician tooling for the Alipay terminal: flash, deploy, provision, self-test, status, logs.

Runs on the technician's computer and talks to the terminal over USB serial through mpremote's own
transport (and esptool for `flash`). See docs/technician.md; `python -m tools.terminal --help`.
"""
