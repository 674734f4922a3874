"""Start the firmware on the MicroPython unix port as the ESP32 does: boot.py, then main.py.

    MICROPYPATH=build/run:build/host-mpy:build/umqtt:tools micropython tools/hostrun.py [DIR]

DIR (default firmware/) holds boot.py and main.py; `board` must be importable (build/run/board.py
is boards/host.py for `make run`).
"""

import sys

# MicroPython puts the script's directory (tools/) first on the path; tools/wmbus.py (the CLI)
# would then hide lib's wmbus package.
if sys.path and sys.path[0].endswith("tools"):
    sys.path.pop(0)
d = sys.argv[1] if len(sys.argv) > 1 else "firmware"
sys.path.insert(0, d)
for name in ("boot.py", "main.py"):
    with open(d + "/" + name) as f:
        code = f.read()
    exec(compile(code, d + "/" + name, "exec"), {"__name__": "__main__"})
