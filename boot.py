# Device boot (runs before main.py): sample the safe-mode key. Held at power-on, it makes main.py
# skip the application so a technician can reach the REPL (see firmware/board/safemode.py).
import firmware.board.safemode

if firmware.board.safemode.check():
    print("safe mode: key held at boot, application will not start")
