# The gateway: see app.py. Skipped in safe mode (boot.py).
import safemode

if not safemode.ACTIVE:
    import app

    app.main()
