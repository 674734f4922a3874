"""Processes for the integration tests (CPython): a real mosquitto broker and the gateway
firmware running on the MicroPython unix port as board `host` (what `make run` starts)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MICROPYTHON = os.path.join(ROOT, ".venv", "bin", "micropython")
LIB = os.path.join(ROOT, "build", "host-mpy")
UMQTT = os.path.join(ROOT, "build", "umqtt")


def mosquitto_path():
    for p in (shutil.which("mosquitto"), "/usr/sbin/mosquitto"):
        if p and os.path.exists(p):
            return p
    return None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ready():
    """None when everything the integration tests need is here, else what is missing."""
    if not mosquitto_path():
        return "mosquitto not installed (.ci/run installs it with apt-get)"
    if not os.path.exists(MICROPYTHON):
        return "no .venv/bin/micropython (make venv)"
    if not os.path.exists(os.path.join(LIB, "gateway.mpy")):
        return "no build/host-mpy (make host-mpy)"
    if not os.path.exists(os.path.join(UMQTT, "umqtt", "simple.py")):
        return "no build/umqtt (make build/umqtt/umqtt/simple.py)"
    return None


class Broker:
    """mosquitto on a free port; `extra` adds configuration lines (TLS, passwords)."""

    def __init__(self, workdir, port=None, extra=""):
        self.workdir = workdir
        self.port = port or free_port()
        self.extra = extra
        self.proc = None
        self.start()

    def start(self):
        conf = os.path.join(self.workdir, "mosquitto-%d.conf" % self.port)
        with open(conf, "w") as f:
            f.write("listener %d 127.0.0.1\n" % self.port)
            if "password_file" not in self.extra:
                f.write("allow_anonymous true\n")
            f.write("persistence false\n")
            if os.getuid() == 0:
                f.write("user root\n")
            f.write(self.extra)
        self.log = open(os.path.join(self.workdir, "mosquitto-%d.log" % self.port), "ab")
        self.proc = subprocess.Popen([mosquitto_path(), "-c", conf], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start: see " + self.log.name)

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None
            self.log.close()


class Gateway:
    """The firmware (boot.py, main.py) on `micropython -X heapsize=heap` with the host board.

    config: the config.json dict; scenario: lines "HEX [DELAY_S] [MODE]"; image: the
    LittleFS image file (reuse it across runs for a "reboot")."""

    def __init__(self, workdir, config, scenario=(), image=None, heap="512K", radio="cc1101",
                 broker_port=None, state_ms=2000, env=None):
        self.workdir = workdir
        self.image = image or os.path.join(workdir, "flash.img")
        cfg_path = os.path.join(workdir, "config.json")
        with open(cfg_path, "w") as f:
            f.write(config if isinstance(config, str) else json.dumps(config))
        scen_path = os.path.join(workdir, "scenario-%d.txt" % time.time_ns())
        with open(scen_path, "w") as f:
            f.write("\n".join(scenario) + "\n")
        run = os.path.join(workdir, "run")
        os.makedirs(run, exist_ok=True)
        shutil.copy(os.path.join(ROOT, "boards", "host.py"), os.path.join(run, "board.py"))
        e = dict(os.environ)
        e.update({"WMBUS_CONFIG": cfg_path, "WMBUS_SCENARIO": scen_path, "WMBUS_RADIO": radio,
                  "WMBUS_FLASH": self.image, "WMBUS_STATE_MS": str(state_ms),
                  "WMBUS_QUIET": "1",
                  "MICROPYPATH": ":".join((run, LIB, UMQTT, os.path.join(ROOT, "tools"), ".frozen"))})
        if broker_port:
            e["WMBUS_BROKER"] = "127.0.0.1:%d" % broker_port
        e.update(env or {})
        self.out_path = os.path.join(workdir, "gateway-%d.out" % time.time_ns())
        self.out = open(self.out_path, "wb")
        self.proc = subprocess.Popen(
            [MICROPYTHON, "-X", "heapsize=" + heap, "tools/hostrun.py", "firmware"], cwd=ROOT,
            env=e, stdout=self.out, stderr=subprocess.STDOUT)

    def output(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_output(self, text, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.output():
                return True
            if self.proc.poll() is not None:
                return text in self.output()
            time.sleep(0.1)
        return False

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        """SIGKILL: no clean-up, as a power cut or a crash would leave it."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.out.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.out.close()


def workdir():
    return tempfile.mkdtemp(prefix="wmbus-it-")
