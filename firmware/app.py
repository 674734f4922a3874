"""The firmware: board, configuration, radio, decoder, flash spool and MQTT joined into one loop.

    radio -> frames -> decode -> spool -> publish        (lib/gateway.py)
    beside it: WiFi, clock (NTP), watchdog, state

The board module (boards/<name>.py, installed as /board.py; `host` on the unix port) says
what is wired where. Hardware is built here from it, with `machine` and `network`, and only
here; a board may instead build its own (the host board hands in simulators).

Nothing in the configuration stops the gateway as long as a radio can be built: a bad field is
reported (console and state topic, naming the field, never quoting a secret) and left at its
default; without WiFi or broker the telegrams wait in the flash spool.
"""

import gc
import sys

import board
import config as config_mod
import publish
from gateway import Gateway
from mqttlink import Link
from radio import FrameQueue, open_radio
from spool import Spool
from wmbus.compat import sleep_ms, ticks_add, ticks_diff, ticks_ms

CONFIG_PATH = getattr(board, "CONFIG", "/config.json")
SPOOL_DIR = getattr(board, "SPOOL_DIR", "/spool")
SPOOL_BYTES = getattr(board, "SPOOL_BYTES", 1024 * 1024)
# The RAM batch between two flash writes, and the spool's read window. A flush blocks the
# CPU for a 4 KiB erase (30-50 ms), during which a CC1101 keeps only the 64 bytes its FIFO holds
# and loses the frames after: a CC1101 board writes half as often (8 KB, 128 telegrams; a
# flush is still due after 5 s at the latest, so a reset loses no more). A UART module buffers
# through the erase: 4 KB, 64 telegrams.
SPOOL_BATCH_BYTES = getattr(board, "SPOOL_BATCH_BYTES", None)
SPOOL_READ_BYTES = 4096
FORMATS_PATH = getattr(board, "FORMATS_PATH", "/formats.txt")
METERS_PATH = getattr(board, "METERS_PATH", "/meters.txt")
WDT_MS = getattr(board, "WDT_MS", 120000)
# Received frames waiting for the main loop (64 bytes of ring each). A UART module buffers
# 8 KB in the UART driver (IDF heap) and the module itself, so 64 (4 KB) suffice there; a
# CC1101 has only its 64-byte FIFO, so its frames wait here through a reconnect or a long
# publish: 128 (8 KB of the Python heap; with the 8 KB batch below, 8 KB more than a UART
# board in all).
QUEUE_SLOTS = getattr(board, "QUEUE_SLOTS", None)
STATE_MS = getattr(board, "STATE_MS", 60000)
# Application updates (lib/ota.py; None: off) and the last accepted command's seq (remote.py).
OTA_ROOT = getattr(board, "OTA_ROOT", "/ota")
REMOTE_SEQ = getattr(board, "REMOTE_SEQ", "/remote.seq")
# Driver names for the configured link modes.
_MODES = {"T1": "T1", "C1": "C1", "C1+T1": "T1+C1"}


def log(*args):
    print(*args)


def load_config(path=CONFIG_PATH):
    try:
        f = open(path)
    except OSError:
        cfg, errors = config_mod.load("{}")
        return cfg, [path + ": not found (copy boards/config.example.json and edit it)"]
    with f:
        return config_mod.load(f)


def irq_driven(drv, gdo0, gdo2, rising, falling):
    """The CC1101's FIFO deadline (2.4 ms after its threshold) is shorter than a flash write or
    an MQTT round trip: its GDO lines call the driver from (soft) interrupts, which the ESP32
    runs between bytecodes and while the main loop waits on a socket. GDO0 rises at the FIFO
    threshold, GDO2 at sync and falls at the frame end (README, "Real-time budget")."""
    if gdo0 is not None:
        gdo0.irq(handler=drv.on_gdo, trigger=rising)
    if gdo2 is not None:
        gdo2.irq(handler=drv.on_gdo, trigger=rising | falling)


def make_radio(kind, mode, queue):
    """The radio driver for the board's wiring."""
    if hasattr(board, "make_radio"):  # the host board: simulators
        return board.make_radio(kind, mode, queue)
    import machine

    Pin = machine.Pin
    if kind == "cc1101":
        s = board.SPI
        spi = machine.SPI(s["id"], baudrate=s.get("baudrate", 4000000), polarity=0, phase=0,
                          sck=Pin(s["sck"]), mosi=Pin(s["mosi"]), miso=Pin(s["miso"]))
        cs = Pin(board.CS, Pin.OUT, value=1)
        gdo0 = Pin(board.GDO0, Pin.IN) if getattr(board, "GDO0", None) is not None else None
        gdo2 = Pin(board.GDO2, Pin.IN) if getattr(board, "GDO2", None) is not None else None
        drv = open_radio(kind, queue, spi=spi, cs=cs, gdo0=gdo0, gdo2=gdo2, mode=mode)
        irq_driven(drv, gdo0, gdo2, Pin.IRQ_RISING, Pin.IRQ_FALLING)
        return drv
    u = board.UART
    # The UART driver's buffer lives in the IDF heap, not the Python heap: 8 KB hold about
    # 1.5 s of telegrams at 57600 baud, longer than a flash write or a broker round trip.
    rxbuf = u.get("rxbuf", 8192)
    uart = machine.UART(u["id"], baudrate=u.get("baudrate", 57600), tx=u["tx"], rx=u["rx"],
                        rxbuf=rxbuf)
    reset = getattr(board, "RESET", None)
    reset = Pin(reset, Pin.OUT, value=1) if reset is not None else None
    return open_radio(kind, queue, uart=uart, reset=reset, mode=mode, rxbuf=rxbuf)


class Wifi:
    """Station mode, kept connected. The ESP32 driver retries by itself after a drop, but not
    after every failure and, on IDF 5, not always after long AP outages
    (micropython-esp32.md §1 WLAN reconnect): when not connected for retry_ms, start over,
    at most once per retry_ms."""

    def __init__(self, ssid, password, retry_ms=30000):
        import network

        self.network = network
        self.ssid = ssid
        self.password = password
        self.retry_ms = retry_ms
        self.wlan = network.WLAN(network.STA_IF)
        self.wlan.active(True)
        self.connects = 0
        self._connect()

    def _connect(self):
        self.started = ticks_ms()
        self.connects += 1
        try:
            self.wlan.connect(self.ssid, self.password)
        except OSError as e:
            log("wifi: connect failed:", e)

    def up(self):
        if self.wlan.isconnected():
            return True
        if ticks_diff(ticks_ms(), self.started) >= self.retry_ms:
            try:
                self.wlan.disconnect()
            except OSError:
                pass
            self._connect()
        return False

    def status(self):
        s = self.wlan.status()
        n = self.network
        names = {getattr(n, "STAT_IDLE", -100): "idle",
                 getattr(n, "STAT_CONNECTING", -101): "connecting",
                 getattr(n, "STAT_WRONG_PASSWORD", -102): "wrong password",
                 getattr(n, "STAT_NO_AP_FOUND", -103): "no access point found",
                 getattr(n, "STAT_GOT_IP", -104): "connected"}
        return {"status": names.get(s, str(s)), "reconnects": self.connects - 1}


class Clock:
    """Wall time from NTP once the network is up, again every day (the RTC drifts)."""

    def __init__(self, every_ms=86400000, retry_ms=60000):
        self.every_ms = every_ms
        self.retry_ms = retry_ms
        self.due = ticks_ms()
        self.synced = False

    def service(self, network_up):
        if not network_up or ticks_diff(ticks_ms(), self.due) < 0:
            return
        try:
            import ntptime

            ntptime.settime()
            self.synced = True
            self.due = ticks_add(ticks_ms(), self.every_ms)
        except Exception:  # OSError (timeout), ImportError: try again later
            self.due = ticks_add(ticks_ms(), self.retry_ms)


def make_link(cfg, gateway_id):
    m = cfg.mqtt
    if not m.get("host"):
        return _NoBroker()
    from umqtt.simple import MQTTClient

    prefix = m["prefix"] or "wmbus/" + gateway_id
    return Link(MQTTClient, "wmbus-" + gateway_id, m["host"], m["port"], user=m.get("user"),
                password=m.get("password"), tls=m.get("tls") or None,
                will_topic=prefix + "/status")


class _NoBroker:
    """No broker configured: everything stays in the spool until one is."""

    connected = False
    counters = {}

    def up(self):
        return False

    def service(self):
        pass

    def publish(self, topic, payload, retain=False, qos=1):
        return False


def _unique_id():
    try:
        import machine
        import binascii

        return binascii.hexlify(machine.unique_id()).decode()
    except Exception:
        return "host"


def meter_table(cfg, errors, path=METERS_PATH):
    """config.json's meters, then those of the meters file (one per line: read as it goes,
    for installations with hundreds of meters), in one compact table. The config's own
    copies of ids, names and keys go once they are in it."""
    from meters import Meters, count_lines, read_lines

    try:
        with open(path) as f:
            in_file, text = count_lines(f)
    except OSError:
        in_file = text = 0
    for name in cfg.meters.values():
        text += len(name.encode())
    table = Meters(len(cfg.meters) + in_file, text)
    keys = cfg.keys()
    for meter_id in cfg.meters:
        table.add(meter_id, cfg.meters[meter_id], keys.get(meter_id))
    cfg.meters = {}
    cfg._keys = {}
    gc.collect()
    try:
        f = open(path)
    except OSError:
        f = None
    before = len(errors)
    if f is not None:
        with f:
            read_lines(table, f, errors, path.rsplit("/", 1)[-1])
    table.seal(errors)
    for e in errors[before:]:
        log("config:", e)
    return table


def build(cfg, errors):
    """The running gateway from a configuration that may have errors."""
    if cfg.gateway_id is None:
        cfg.gateway_id = "gw-" + _unique_id()
        log("config: gateway_id missing, using", cfg.gateway_id)
    if cfg.mqtt.get("prefix") is None:
        cfg.mqtt["prefix"] = "wmbus/" + cfg.gateway_id
    board_kind = getattr(board, "RADIO", None)
    kind = cfg.radio.get("kind") or board_kind
    if board_kind and kind != board_kind:
        errors.append("radio.kind: this board has a %s, not a %s; using the %s"
                      % (board_kind, kind, board_kind))
        kind = board_kind
    if hasattr(board, "radio_kind"):  # the host board: RADIO= picks the simulator
        kind = board.radio_kind(kind)
    mode = _MODES.get(cfg.radio.get("mode") or "C1+T1", "T1+C1")
    cfg.table = meter_table(cfg, errors)
    queue = FrameQueue(QUEUE_SLOTS or (128 if kind == "cc1101" else 64))
    radio = make_radio(kind, mode, queue)
    if not radio.start():
        log("radio:", getattr(radio, "error", "did not start"), "- retrying in the loop")
    # The RAM batch (51 bytes per 40-byte frame): flushed when full or after 5 s (Gateway).
    batch = SPOOL_BATCH_BYTES or (8192 if kind == "cc1101" else 4096)
    spool = Spool(SPOOL_DIR, SPOOL_BYTES, buffer_bytes=batch, read_bytes=SPOOL_READ_BYTES)
    link = make_link(cfg, cfg.gateway_id)
    echo = getattr(board, "echo", None)  # the host board prints what is published
    if echo is not None:
        link_publish = link.publish

        def publish_and_echo(topic, payload, retain=False, qos=1):
            ok = link_publish(topic, payload, retain, qos)
            if ok:
                echo(topic, payload)
            return ok

        link.publish = publish_and_echo
    gw = Gateway(cfg, radio, spool, link, formats_path=FORMATS_PATH, state_ms=STATE_MS,
                 flush_records=batch // 64)
    gw.config_errors = errors
    return gw


def start():
    """Everything up to the main loop: (gateway, wifi, clock, watchdog)."""
    cfg, errors = load_config()
    for e in errors:
        log("config:", e)
    for w in cfg.warnings:
        log("config warning:", w)
    if hasattr(board, "setup"):
        board.setup(cfg)  # host: mount the flash image, point mqtt at the local broker
    gw = build(cfg, errors)
    wifi = None
    if getattr(board, "NETWORK", True) and cfg.wifi.get("ssid"):
        pw = cfg.wifi.get("password")
        wifi = Wifi(cfg.wifi["ssid"], pw.value if pw is not None else None)
        gw.extra_state = wifi.status
    clock = Clock() if getattr(board, "NTP", True) else None
    wdt = None
    if WDT_MS:
        import machine

        wdt = machine.WDT(timeout=WDT_MS)
    log("gateway %s: %d meters, radio %s, spool %d telegrams waiting" % (
        cfg.gateway_id, len(gw.meters), cfg.radio.get("kind"), gw.spool.depth()))
    gc.collect()
    return gw, wifi, clock, wdt


def _exists(path):
    import os

    try:
        os.stat(path)
        return True
    except OSError:
        return False


def restart(gw):
    """Start again: into a new configuration or version, or back from one (rollback). What
    waits in RAM goes to the spool first."""
    gw.flush()
    if hasattr(board, "restart"):
        board.restart()  # the host board: tools/run-host.sh starts the firmware again
    import machine

    machine.reset()


def make_remote(cfg, gw, wdt):
    """Remote operation (lib/remote.py) when the configuration has a `remote` section and a
    broker, and the new version's deadline (lib/ota.py) when one is on trial:
    (remote or None, trial or None)."""
    trial = None
    ota = None
    # ota's code (10 KB of heap) only when it can be needed: remote operation on, or an
    # update installed (boot.json).
    if OTA_ROOT and (cfg.remote is not None or _exists(OTA_ROOT + "/boot.json")):
        import ota

        trial = ota.Trial(OTA_ROOT, cfg.remote["confirm_s"] if cfg.remote else 300)
        if not trial.pending:
            trial = None
    remote = None
    if cfg.remote is not None and hasattr(gw.link, "subscribe"):
        import remote as remote_mod

        def tick():  # while an update downloads: the watchdog, and frames off the radio
            if wdt is not None:
                wdt.feed()
            gw.service_radio()

        updater = ota.Updater(OTA_ROOT, log=log).install if ota is not None else None
        remote = remote_mod.Remote(cfg.remote["secret"].value, gw.topics,
                                   lambda t, p, r=False: gw.link.publish(t, p, r),
                                   REMOTE_SEQ, CONFIG_PATH, lambda: restart(gw),
                                   publish_state=gw.publish_state, updater=updater,
                                   tick=tick, log=log)
        command = gw.topics.command.encode()  # bytes: umqtt measures it with len()
        gw.link.on_message = remote.handle
        gw.on_connect = lambda: gw.link.subscribe(command)
    if ota is not None or remote is not None:
        def remote_state():
            return {"commands": remote.counters if remote is not None else None,
                    "app": ota.status(OTA_ROOT) if ota is not None else None}

        gw.remote_state = remote_state
    return remote, trial


def main():
    gw, wifi, clock, wdt = start()
    remote, trial = make_remote(gw.cfg, gw, wdt)
    try:
        run(gw, wifi, clock, wdt, remote=remote, trial=trial)
    except KeyboardInterrupt:
        # Ctrl-C from the REPL or mpremote (make deploy): the hardware watchdog cannot be
        # stopped, only given a long timeout, or it resets the board in the middle of a copy.
        if wdt is not None:
            import machine

            machine.WDT(timeout=86400000)
        gw.flush()
        print("gateway stopped (Ctrl-C); watchdog set to 24 h; machine.reset() to restart")
        raise


def run(gw, wifi=None, clock=None, wdt=None, until=None, remote=None, trial=None):
    """The main loop; `until` (a function) ends it, for tests and the host board."""
    idle = 0
    mqtt_error = None
    while until is None or not until():
        net = wifi.up() if wifi is not None else True
        if clock is not None:
            clock.service(net)
        busy = gw.step(net)
        if remote is not None and remote.service():
            busy = True
        if trial is not None and trial.pending:
            # A new version proves itself by connecting and publishing its state in time.
            verdict = trial.check(gw.link.connected and gw.publish_state())
            if verdict == "confirmed":
                log("ota: this version is confirmed")
                gw.publish_state()  # the state topic says so now, not a state period later
            elif verdict == "expired":
                log("ota: not up and reporting within the deadline: back to the last version")
                restart(gw)
        link = gw.link
        now_error = (link.connected, getattr(link, "last_error", None))
        if now_error != mqtt_error:  # say what changed: connected, or why not
            mqtt_error = now_error
            log("mqtt:", "connected" if link.connected else now_error[1] or "not connected")
        if wdt is not None:
            wdt.feed()
        if busy:
            idle = 0
        else:
            # Nothing to do: a short sleep, never longer than the radio can wait
            # (a UART module buffers; the CC1101 driver is woken by its GDO interrupt).
            idle += 1
            sleep_ms(1 if idle < 10 else getattr(board, "IDLE_SLEEP_MS", 5))
