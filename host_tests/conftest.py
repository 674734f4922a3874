# pytest: make lib/ importable exactly as it is on the device (/lib), and leave out the test
# modules that need MicroPython itself (their first lines say `# micropython-only`: they run in
# `make test-micropython`, e.g. LittleFS on a RAM block device through the `vfs` module).
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# tools/ for the radio simulators (tools/simradio), which are portable too.
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))


def _micropython_only(path):
    with open(path) as f:
        return any("micropython-only" in f.readline() for _ in range(5))


collect_ignore = [n for n in os.listdir(HERE)
                  if n.startswith("test_") and n.endswith(".py")
                  and _micropython_only(os.path.join(HERE, n))]
