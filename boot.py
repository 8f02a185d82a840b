# Device boot (runs before main.py): the safe-mode gesture. The keypad's safe-mode key (D unless
# /config.json's "safe_mode_key" says otherwise) held while resetting and for a second after makes
# main.py skip the application, so a technician reaches the REPL (firmware/board/safemode.py).
# Not GPIO0: held at reset, that is the ESP32's download mode and boot.py would never run.
import firmware.board.safemode

if firmware.board.safemode.check():
    print("safe mode: safe-mode key held after reset, the application will not start")
