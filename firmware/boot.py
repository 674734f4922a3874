# Runs first at every reset. Kept tiny and independent of the app, so that a broken app or a
# bad update can always be escaped: hold the board's safe-mode pin (the BOOT button, GPIO0, on
# most ESP32 boards) low while resetting, and main.py leaves the REPL to you.
import safemode

try:
    import board

    pin = getattr(board, "SAFE_MODE_PIN", 0)
    ota_root = getattr(board, "OTA_ROOT", "/ota")
    wdt_ms = getattr(board, "WDT_MS", 120000)
except ImportError:
    pin = 0
    ota_root = "/ota"
    wdt_ms = 120000
if pin is not None:
    try:
        import machine

        if machine.Pin(pin, machine.Pin.IN, machine.Pin.PULL_UP).value() == 0:
            safemode.ACTIVE = True
            print("safe mode: pin %d held low at boot, the gateway will not start" % pin)
    except ImportError:  # no `machine` (a host run without the stand-ins): no pin to read
        pass
# An application update (lib/ota.py): its slot goes first on sys.path, unless safe mode is on
# (then the REPL sees the installed firmware and boot.json is left as it is). ota comes from
# the installed /lib and is dropped again, so the app imports its own version. Any failure
# here starts the installed firmware: boot must never depend on the update it rolls back.
if not safemode.ACTIVE and ota_root:
    import os
    import sys

    try:
        os.stat(ota_root + "/boot.json")  # never updated: not even ota is loaded
        import ota

        slot = ota.select(ota_root)
        trial = False
        if slot:
            sys.path.insert(0, slot)
            sys.path.insert(0, slot + "/lib")
            print("ota: running version %s from %s" % (ota.status(ota_root)["version"], slot))
            trial = ota.status(ota_root)["pending"]
    except OSError as e:
        if e.args and e.args[0] != 2:  # ENOENT: no update was ever installed
            print("ota: boot selection failed, starting the installed firmware:", repr(e))
        slot = trial = None
    except Exception as e:  # anything at all: the installed firmware still boots
        print("ota: boot selection failed, starting the installed firmware:", repr(e))
        slot = trial = None
    # boot.py's names stay in __main__ for good: drop every reference, or ota's code (about
    # 10 KB of heap) would never be freed.
    sys.modules.pop("ota", None)
    ota = None
    if slot and trial and wdt_ms:
        # On trial: a version that fails before its app has a watchdog (an exception at import
        # leaves the REPL, which never resets) is reset by this one, and the next boot rolls
        # back. The app's own WDT() takes it over.
        try:
            import machine

            machine.WDT(timeout=wdt_ms)
        except (ImportError, AttributeError):  # a port without a watchdog (unix, no stand-ins)
            pass
