"""Run by test_device_paths.py under `micropython`: the firmware's device-only paths (a real
board file, machine/network/ntptime, the watchdog) on the stand-ins in tools/standins, with a
simulated CC1101 or UART module wired to the board's bus as the board file says.

    micropython device_run.py BOARD CONFIG WORKDIR SECONDS
Prints one JSON line of what happened."""

import json
import sys

board_name, config_path, workdir, seconds = sys.argv[1:5]
root = (__file__.rsplit("/", 1)[0] if "/" in __file__ else ".") + "/.."
sys.path[:] = [root + "/build/host-mpy/standins", workdir, root + "/build/host-mpy",
               root + "/build/umqtt", root + "/tools", root + "/firmware", ".frozen"]

import machine  # noqa: E402  (the stand-in: first on the path)
import network  # noqa: E402
import ntptime  # noqa: E402
import vfs  # noqa: E402

import simflash  # noqa: E402
from simradio.onair import Transmission  # noqa: E402
from wmbus import build  # noqa: E402

# The board as installed on the device: /board.py. Its flash is a LittleFS image here.
with open(root + "/boards/" + board_name + ".py") as f:
    src = f.read()
with open(workdir + "/board.py", "w") as f:
    f.write(src + '\nCONFIG = "%s"\nSPOOL_DIR = "/dev_flash/spool"\n'
            'FORMATS_PATH = "/dev_flash/formats.txt"\n' % config_path)
simflash.mount(workdir + "/flash.img", "/dev_flash", blocks=128)
import board  # noqa: E402

network._sim_set(ap_ssid="basement", password="wifi-pw", reachable=True, connect_delay_ms=300)
KEY = bytes(range(16))
air = [Transmission(1500000 + 300000 * i, build.telegram(
    build.records(("0413", 1000 + i)), manufacturer="KAM", meter_id="24681357", version=0x1B,
    device_type=0x16, ci=0x78, ell=0x8D, key=KEY, access_number=i), "C1", "B", -60)
    for i in range(5)]

if board.RADIO == "cc1101":
    from simradio.cc1101 import SimCC1101

    sim = SimCC1101()
    base_ms = machine._sim_now_ms()

    def advance(us=0):
        # The chip lives on the stand-ins' clock (real time plus _sim_advance), as the UART
        # modules below live in real time: a driver that waits (calibration) sees time pass
        # however slow the host is.
        sim.advance_to((machine._sim_now_ms() - base_ms) * 1000)

    class Spi:  # machine.SPI's methods, the chip caught up first
        def write(self, buf):
            advance()
            return sim.spi.write(buf)

        def read(self, n, write=0):
            advance()
            return sim.spi.read(n, write)

        def readinto(self, buf, write=0):
            advance()
            return sim.spi.readinto(buf, write)

        def write_readinto(self, out, buf):
            advance()
            return sim.spi.write_readinto(out, buf)

    machine._sim_attach_spi(board.SPI["id"], Spi())
    machine._sim_attach_pin(board.CS, sim.cs)
    machine._sim_attach_pin(board.GDO0, sim.gdo0)
    machine._sim_attach_pin(board.GDO2, sim.gdo2)
    sim.feed(air)
else:
    from simradio import modules

    clock = modules.Clock()
    sim = getattr(modules, {"im871a": "SimIM871A", "amb8465": "SimAMB8465",
                            "rc1180": "SimRC1180"}[board.RADIO])(
        clock, air=air, rxbuf=board.UART["rxbuf"],
        **({"firmware": "MBUS3"} if board.RADIO == "rc1180" else {}))

    import time

    t0 = time.ticks_us()

    class Uart:  # the UART module on the other end of machine.UART(2)'s wires
        def _now(self):  # the module lives in real time (the driver's waits are real sleeps)
            now = time.ticks_diff(time.ticks_us(), t0)
            if now > clock.us:
                clock.us = now

        def write(self, data):
            self._now()
            sim.write(data)

        def read(self):
            self._now()
            return sim.read() if sim.any() else None

    machine._sim_attach_uart(board.UART["id"], Uart())
    machine._sim_attach_pin(board.RESET, sim.reset)

    def advance(us):
        clock.advance_us(us)

exec(open(root + "/firmware/boot.py").read())  # noqa: S102  (as the device runs it)
import safemode  # noqa: E402
import app  # noqa: E402

gw, wifi, clock_ntp, wdt = app.start()
steps = [0]


def until():
    steps[0] += 1
    machine._sim_advance(2)
    advance(2000)
    machine._sim_check_wdt()
    return steps[0] * 2 >= int(seconds) * 1000


app.run(gw, wifi, clock_ntp, wdt, until)
gw.flush()
out = {"safe_mode": safemode.ACTIVE, "wifi": wifi.status(), "wdt_timeout": wdt.timeout,
       "wdt_feeds": wdt.feeds, "ntp_queries": len(ntptime.queries), "received":
       gw.counters["received"], "stored": gw.counters["stored"], "radio": gw.queue.counters,
       "spool_depth": gw.spool.depth(), "mqtt_error": gw.link.last_error,
       "radio_info": gw.radio.info}
print(json.dumps(out))
