"""The hardware adapters: display and keypad construction, keypad scanning, buzzer and LED, safe mode."""
