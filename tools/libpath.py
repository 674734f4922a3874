"""sys.path for the host tools that run on both interpreters (bench, conformance, fuzz).

lib/ of this checkout comes first, or the folder given as --lib=DIR: `make` passes the .mpy
files that mpy-cross made of lib/, so that MicroPython loads them as the device does.
"""

import sys


def root(script):
    """The checkout a tool runs from."""
    top = script.rsplit("/", 2)[0] if "/" in script else "."
    return "." if top == "tools" else top


def setup(script):
    lib = root(script) + "/lib"
    for arg in sys.argv[1:]:
        if arg.startswith("--lib="):
            lib = arg[6:]
    sys.path.insert(0, lib)
    return lib
