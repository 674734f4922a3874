# Runs first at every reset. Kept tiny and independent of the app, so that a broken app or a
# bad update can always be escaped: hold the board's safe-mode pin (the BOOT button, GPIO0, on
# most ESP32 boards) low while resetting, and main.py leaves the REPL to you.
import safemode

try:
    import board

    pin = getattr(board, "SAFE_MODE_PIN", 0)
except ImportError:
    pin = 0
if pin is not None:
    try:
        import machine

        if machine.Pin(pin, machine.Pin.IN, machine.Pin.PULL_UP).value() == 0:
            safemode.ACTIVE = True
            print("safe mode: pin %d held low at boot, the gateway will not start" % pin)
    except ImportError:  # no `machine` (a host run without the stand-ins): no pin to read
        pass
