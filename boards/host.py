"""The host board: this same firmware on the MicroPython unix port (`make run`).

The radio is a simulator (tools/simradio) of the kind RADIO= (or config radio.kind) names,
driven by the real driver from lib/radio and playing a scenario in real time; the flash is a
LittleFS image file under build/ mounted at /flash; there is no WiFi, NTP or watchdog (the
host's clock is right). The firmware cannot tell: it builds the radio through make_radio() and
mounts nothing itself.

Environment (set by `make run`): WMBUS_CONFIG, WMBUS_SCENARIO, WMBUS_RADIO, WMBUS_BROKER
(host:port, overrides mqtt.host/port), WMBUS_FLASH (the image), WMBUS_QUIET (print less).
"""

import os
import time

NAME = "host (MicroPython unix port, simulated radio)"
RADIO = None  # whichever the configuration or WMBUS_RADIO asks for
NETWORK = False
NTP = False
WDT_MS = 0
SAFE_MODE_PIN = None
CONFIG = os.getenv("WMBUS_CONFIG") or "tools/samples/host-config.json"
SCENARIO = os.getenv("WMBUS_SCENARIO") or "tools/samples/scenario.txt"
FLASH_IMAGE = os.getenv("WMBUS_FLASH") or "build/host-flash.img"
SPOOL_DIR = "/flash/spool"
FORMATS_PATH = "/flash/formats.txt"
SPOOL_BYTES = 1024 * 1024
QUIET = bool(os.getenv("WMBUS_QUIET"))
STATE_MS = int(os.getenv("WMBUS_STATE_MS") or 60000)
# Remote operation: application slots on the host filesystem (boot.py reads them before
# setup() has mounted /flash), the command seq on the flash image.
OTA_ROOT = os.getenv("WMBUS_OTA") or "build/run/ota"
REMOTE_SEQ = "/flash/remote.seq"
RESTART_EXIT = 75  # tools/run-host.sh starts the firmware again on this exit status


def restart():
    """machine.reset() for the host: the process ends and run-host.sh starts it again."""
    print("host: restart")
    raise SystemExit(RESTART_EXIT)


def setup(cfg):
    import simflash

    simflash.mount(FLASH_IMAGE, "/flash", blocks=384)  # 1.5 MiB: the spool and a margin
    broker = os.getenv("WMBUS_BROKER")
    if broker:
        host, _, port = broker.rpartition(":")
        cfg.mqtt["host"] = host or "127.0.0.1"
        cfg.mqtt["port"] = int(port)


UART_RXBUF = 8192  # as the UART boards configure it: a network stall of ~1 s fits


class _RealTime:
    """The driver, with the simulator's clock brought up to real time before each call: the
    scenario plays in real time, and a poll() that comes late loses what the chip would lose.
    The UART simulators take their air as a list: it is handed over 100 ms ahead."""

    def __init__(self, driver, sim, air, clock=None):
        self.driver = driver
        self.sim = sim
        self.queue = driver.queue
        self.clock = clock  # the UART simulators' Clock; the CC1101 simulator keeps its own
        self.air = air  # Transmissions still to hand to a UART simulator, or None
        self._next = None
        self.t0 = time.ticks_us()

    def _sync(self):
        now = time.ticks_diff(time.ticks_us(), self.t0)
        if self.clock is None:
            if now > self.sim.clock_us:
                self.sim.advance_to(now)
            return
        if self.air is not None:
            batch = []
            while True:
                if self._next is None:
                    self._next = next(self.air, None)
                    if self._next is None:
                        self.air = None
                        break
                if self._next.start_us > now + 100000:
                    break
                batch.append(self._next)
                self._next = None
            if batch:
                self.sim.feed(batch)
        if now > self.clock.us:
            self.clock.us = now

    def start(self):
        self._sync()
        return self.driver.start()

    def poll(self):
        self._sync()
        return self.driver.poll()

    @property
    def receiving(self):
        return getattr(self.driver, "receiving", False)

    def __getattr__(self, name):  # info, error, counters
        return getattr(self.driver, name)


_SIMS = {"im871a": "SimIM871A", "amb8465": "SimAMB8465", "rc1180": "SimRC1180"}


def radio_kind(kind):
    """The radio this board has: RADIO= (WMBUS_RADIO) over the configuration's radio.kind
    (the firmware sizes its queue and flash batches by it)."""
    return os.getenv("WMBUS_RADIO") or kind


def make_radio(kind, mode, queue):
    from simradio.scenario import Player, stream

    kind = radio_kind(kind)
    try:
        lines = open(SCENARIO)
    except OSError:
        raise SystemExit("host: scenario %s not found (SCENARIO=path)" % SCENARIO)
    print("host: simulated %s radio playing %s" % (kind, SCENARIO))
    air = iter(Player(stream(lines), start_us=200000))  # after the radio has started
    if kind == "cc1101":
        from simradio.cc1101 import SimCC1101
        from radio.cc1101 import CC1101

        sim = SimCC1101()
        drv = CC1101(queue, spi=sim.spi, cs=sim.cs, gdo0=sim.gdo0, gdo2=sim.gdo2, mode=mode,
                     ticks_ms=lambda: sim.clock_us // 1000, ticks_us=lambda: sim.clock_us)
        sim.feed(air)
        import app

        app.irq_driven(drv, sim.gdo0, sim.gdo2, sim.gdo0.IRQ_RISING, sim.gdo0.IRQ_FALLING)
        return _RealTime(drv, sim, None)
    if kind not in _SIMS:
        raise SystemExit("host: no simulator for radio %r (RADIO=cc1101|im871a|amb8465|rc1180)"
                         % kind)
    from simradio import modules
    from radio import open_radio

    clock = modules.Clock()
    extra = {"firmware": "MBUS3"} if kind == "rc1180" else {}  # C1 needs the MBUS3 firmware
    sim = getattr(modules, _SIMS[kind])(clock, rxbuf=UART_RXBUF, **extra)
    drv = open_radio(kind, queue, uart=sim, reset=sim.reset, mode=mode,
                     ticks_ms=clock.ticks_ms, sleep_ms=clock.sleep_ms, rxbuf=UART_RXBUF)
    return _RealTime(drv, sim, air, clock)


def echo(topic, payload):
    """Print what was published: readings in one line each, state in short."""
    import json

    if "/meter/" in topic:
        r = json.loads(payload)
        fields = ["%s=%s" % (k, r[k]) for k in sorted(r)
                  if k.startswith(("total_", "target_", "current_", "flow_", "status"))
                  and r[k] not in (None, "")]
        print("reading %s %s (%s, %s dBm): %s" % (r.get("id"), r.get("name"),
                                                   r.get("meter") or r.get("media"),
                                                   r.get("rssi_dbm"), " ".join(fields)))
    elif topic.endswith("/state") and not QUIET:
        s = json.loads(payload)
        print("state: heap free %s, spool depth %s, received %s, unknown meters %s, key "
              "problems %s, mqtt %s" % (
                  s["heap_free"], s["spool"]["depth"], s["counters"]["received"],
                  sorted(s["unknown_meters"]), s["meters_key_problem"], s["mqtt"]))
