"""Every failure the technician tool reports: one sentence that says what to do, and an exit code.

The command line prints `error: <sentence>` and exits with `code`; nothing else (no traceback).
Exit codes (also in docs/technician.md):
    1  anything else went wrong on the device or the host
    2  bad command-line input (argparse's own code)
    3  no device on the port
    4  the port answers, but not as MicroPython
    5  the terminal's filesystem is full
    6  the configuration fails validation
    7  the gateway refused or could not be reached
    8  the firmware image is for another chip / not an ESP image
    9  a tool the command needs is missing or failed (esptool, mpy-cross, mip)
"""

GENERAL = 1
NO_DEVICE = 3
NOT_MICROPYTHON = 4
FILESYSTEM_FULL = 5
BAD_CONFIG = 6
GATEWAY = 7
WRONG_IMAGE = 8
TOOL = 9


class TerminalError(Exception):
    def __init__(self, message, code=GENERAL):
        Exception.__init__(self, message)
        self.message = message
        self.code = code
