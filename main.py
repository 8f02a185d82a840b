# Device entry: start the terminal application unless boot.py entered safe mode.
import firmware.board.safemode

if firmware.board.safemode.active():
    print("safe mode: the REPL is yours; reset without holding the key to start the terminal")
else:
    import firmware.app

    firmware.app.main()
