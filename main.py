# Device entry: start the terminal application unless boot.py entered safe mode.
import firmware.board.safemode

if firmware.board.safemode.active():
    print("safe mode: the REPL is yours; reset without holding the key to start the terminal")
else:
    import late

    late.drop("firmware.board.safemode")  # needed at boot only: its bytecode leaves the heap
    import firmware.app

    firmware.app.main()
