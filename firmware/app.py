"""The terminal application's entry point, called by main.py.

A placeholder until the terminal firmware lands: it says what it is and returns, so the device
drops to the REPL instead of crash-looping.
"""

VERSION = "0.1.0"


class Application:
    def __init__(self):
        self.version = VERSION

    def run(self):
        print("alipay terminal %s: application not built yet" % self.version)
        return None


def main():
    return Application().run()
