"""Run the portable test modules under MicroPython (the unix port), pytest-style.

    micropython -X heapsize=128K tools/mptest.py [--lib=DIR] [-v] [host_tests/test_x.py ...]

--lib=DIR puts DIR first on sys.path instead of lib/: `make test-micropython` passes the .mpy
files that mpy-cross made of lib/, as the device loads them. --tests=DIR: where the compiled test
modules are (the markers are still read from host_tests/*.py).

A portable module is a `host_tests/test_*.py` that imports only `lib/` (and the standard modules
both interpreters have); a module whose first lines say `# cpython-only` is skipped. Every
`test_*` function is called with no arguments; an exception or a failed assert is a failure.
The last line reads like pytest's: "N passed, N failed".
"""

import gc
import os
import sys

ROOT = __file__.rsplit("/", 2)[0] if "/" in __file__ else "."
if ROOT == "tools":
    ROOT = "."
LIB = ROOT + "/lib"
TESTS = None
for _a in sys.argv[1:]:
    if _a.startswith("--lib="):
        LIB = _a[6:]
    elif _a.startswith("--tests="):
        TESTS = _a[8:]
sys.path.insert(0, ROOT + "/host_tests")
sys.path.insert(0, ROOT + "/tools")  # the radio simulators (tools/simradio)
if TESTS:
    sys.path.insert(0, TESTS)
sys.path.insert(0, LIB)


def portable(path):
    with open(path) as f:
        for _ in range(5):
            line = f.readline()
            if "cpython-only" in line:
                return False
    return True


def modules(args):
    if args:
        return args
    d = ROOT + "/host_tests"
    return [d + "/" + n for n in sorted(os.listdir(d)) if n.startswith("test_") and n.endswith(".py")]


def main(args):
    verbose = "-v" in args
    args = [a for a in args if a != "-v" and not a.startswith("--")]
    passed = failed = skipped = 0
    for path in modules(args):
        if not portable(path):
            skipped += 1
            continue
        name = path.rsplit("/", 1)[-1][:-3]
        try:
            mod = __import__(name)
        except Exception as e:
            print("ERROR importing", name)
            sys.print_exception(e)
            failed += 1
            continue
        for attr in sorted(dir(mod)):
            if not attr.startswith("test_"):
                continue
            fn = getattr(mod, attr)
            if not callable(fn):
                continue
            try:
                fn()
                passed += 1
                if verbose:
                    gc.collect()
                    print("PASSED", name + "::" + attr, gc.mem_free())
            except Exception as e:
                failed += 1
                print("FAILED", name + "::" + attr)
                sys.print_exception(e)
            gc.collect()
        del sys.modules[name]
        gc.collect()
        if verbose:
            print("after %s: %d bytes of heap free" % (name, gc.mem_free()))
    print("micropython (lib from %s): %d modules skipped (cpython-only)" % (LIB, skipped))
    print("%d passed, %d failed" % (passed, failed))
    return failed


if __name__ == "__main__":
    sys.exit(1 if main(sys.argv[1:]) else 0)
