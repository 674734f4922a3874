"""The ESP32 device-module stand-ins of tools/standins (machine, network, esp32, ntptime):
they must fail where the board fails (a misspelt keyword, an id the ESP32 does not have) and
record what the firmware did, so the device-only code paths can be tested here.

The stand-ins are imported exactly as the firmware imports the real modules (`import machine`)
with tools/standins first on sys.path. The unix port has a built-in `machine`; it is an
extensible module, so a machine.py on sys.path takes precedence (tools/standins/README.md).
"""

import os
import sys
import time


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _standins_on_path():
    """Prefer the .mpy build in <lib dir>/standins (`make host-mpy` is to make it, as for
    simradio): the MicroPython compiler needs ~144 KB of heap for machine.py's source, and a
    128 KB test heap cannot compile it. Fall back to tools/standins."""
    found = None
    for p in sys.path:
        if _exists(p + "/standins/machine.mpy"):
            found = p + "/standins"
            break
    if found is None:
        for p in sys.path:
            if (p == "tools" or p.endswith("/tools")) and _exists(p + "/standins/machine.py"):
                found = p + "/standins"
                break
    if found is not None and found not in sys.path:
        sys.path.insert(0, found)
    m = sys.modules.get("machine")
    if m is not None and not hasattr(m, "_sim_reboot"):
        del sys.modules["machine"]  # the unix port's built-in, imported before us


_standins_on_path()

import esp32  # noqa: E402
import machine  # noqa: E402
import network  # noqa: E402
import ntptime  # noqa: E402
from machine import Pin, SPI, UART, WDT, RTC, Timer  # noqa: E402


def raises(exc, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except exc as e:
        return e
    raise AssertionError("%s not raised by %r" % (exc.__name__, fn))


def fresh_board():
    """A powered-off board, erased flash and NVS, no simulators wired, default AP."""
    machine._sim_power_cycle()
    for n in list(machine._pins):
        machine._sim_attach_pin(n, None)
    machine._pins.clear()
    machine._spi_devices.clear()
    machine._uart_devices.clear()
    network._sim_reset()
    esp32._sim_setup()
    esp32._sim_nvs_erase()
    ntptime._sim_reset()


def test_the_standins_are_what_import_finds():
    for mod in (machine, network, esp32, ntptime):
        assert "standins" in mod.__file__, mod.__file__
    assert hasattr(machine, "ResetCalled") and hasattr(machine, "_sim_attach_spi")


# -- strictness: the same exception type the ESP32 port raises ----------------------------------

def test_pin_rejects_what_the_esp32_rejects():
    fresh_board()
    raises(TypeError, Pin, 5, Pin.OUT, valu=1)  # misspelt keyword
    raises(TypeError, Pin, 5, Pin.OUT, Pin.PULL_UP, 1)  # value is keyword-only
    for bad in (20, 24, 28, 31, 40, -1):  # GPIOs the ESP32 does not have
        raises(ValueError, Pin, bad)
    raises(ValueError, Pin, 34, Pin.OUT)  # GPIO34-39 are input-only
    raises(ValueError, Pin, 35, Pin.OPEN_DRAIN)
    p = Pin(4, Pin.IN)
    raises(TypeError, p.irq, handler=print, trigger=Pin.IRQ_FALLING, hard=True)  # no hard=
    raises(TypeError, p.irq, handler=print, priority=1)
    raises(TypeError, p.value, 1, 0)
    raises(TypeError, p, 1, 0)
    raises(ValueError, p.irq, trigger=Pin.WAKE_LOW, wake=9)
    assert Pin(36, Pin.IN).value() == 0  # input-only pins are fine as inputs


def test_spi_rejects_what_the_esp32_rejects():
    fresh_board()
    for bad in (0, 3, -1):  # only HSPI(1) and VSPI(2)
        raises(ValueError, SPI, bad)
    raises(TypeError, SPI, 1, 5000000, 0, 0)  # polarity and phase are keyword-only
    raises(TypeError, SPI, 1, baud=5000000)
    raises(TypeError, SPI, 1, 5000000, clk=Pin(14))
    raises(ValueError, SPI, 2, 5000000, sck=20)  # no GPIO20
    spi = SPI(2, 5000000, polarity=0, phase=0, sck=Pin(18), mosi=23, miso=Pin(19))
    assert (spi.sck, spi.mosi, spi.miso, spi.baudrate) == (18, 23, 19, 5000000)
    raises(TypeError, spi.init, 1000000, 0)
    spi.init(baudrate=1000000)
    assert spi.baudrate == 1000000 and spi.sck == 18
    raises(ValueError, spi.write_readinto, b"\x00\x00", bytearray(1))
    raises(TypeError, spi.read, 2, write=0xFF)  # positional only in extmod/machine_spi.c
    raises(TypeError, spi.readinto, bytearray(2), write=0xFF)


def test_uart_rejects_what_the_esp32_rejects():
    fresh_board()
    raises(ValueError, UART, 3)  # UART0-2 only
    raises(TypeError, UART, 1, baud=9600)
    raises(TypeError, UART, 1, 9600, 8, None, 1, 17)  # tx is keyword-only
    raises(TypeError, UART, 1, 9600, rx_buf=512)
    raises(ValueError, UART, 1, 9600, bits=9)
    raises(ValueError, UART, 1, 9600, stop=3)
    raises(ValueError, UART, 1, 9600, invert=1 << 12)
    u = UART(1, 9600, tx=17, rx=16, rxbuf=1024, timeout=100)
    assert (u.baudrate, u.tx, u.rx, u.rxbuf, u.txbuf, u.timeout) == (9600, 17, 16, 1024, 256, 100)
    raises(ValueError, u.irq, handler=print, trigger=UART.IRQ_RX, hard=True)
    raises(TypeError, u.irq, handler=print, triger=UART.IRQ_RX)


def test_wdt_rejects_what_the_esp32_rejects():
    fresh_board()
    raises(ValueError, WDT, id=1)
    raises(ValueError, WDT, 1, 5000)
    raises(ValueError, WDT, timeout=0)
    raises(ValueError, WDT, timeout=-1000)
    raises(TypeError, WDT, timeout_ms=5000)
    raises(TypeError, WDT, 0, 5000, 1)
    assert machine._sim_wdt() is None  # none of those started the watchdog
    assert WDT(timeout=30000).timeout == 30000
    raises(AttributeError, getattr, WDT(), "deinit")  # it cannot be stopped


def test_machine_functions_and_rtc_strictness():
    fresh_board()
    assert machine.freq() == 160000000
    machine.freq(240000000)
    assert machine.freq() == 240000000
    raises(ValueError, machine.freq, 100000000)
    raises(TypeError, machine.freq, 80000000, 80000000)
    assert len(machine.unique_id()) == 6
    assert machine.reset_cause() == machine.PWRON_RESET
    raises(TypeError, RTC, 0)
    r = RTC()
    raises(ValueError, r.datetime, (2026, 1, 2, 3, 4, 5, 6))  # 8 items or nothing
    r.memory(bytes(2048))
    raises(ValueError, r.memory, bytes(2049))
    raises(ValueError, Timer, 4)
    raises(TypeError, Timer, 0, perod=1000)
    raises(ValueError, Timer, 0, mode=Timer.PERIODIC, period=100, callback=print, hard=True)


def test_network_rejects_what_the_esp32_rejects():
    fresh_board()
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    raises(TypeError, wlan.connect, ssid="home", password="pw")  # positional only on ESP32
    raises(TypeError, wlan.connect, "home", key="pw")
    raises(TypeError, wlan.connect, "home", "pw", "bssid")
    raises(ValueError, wlan.config, "bogus")
    raises(ValueError, wlan.config, bogus=1)  # the port checks names itself: ValueError
    raises(TypeError, wlan.config, "mac", "essid")
    raises(TypeError, wlan.config, "mac", reconnects=1)
    raises(ValueError, network.WLAN, 2)
    raises(TypeError, network.WLAN, network.STA_IF, 1)
    raises(OSError, wlan.config, essid="x")  # an AP setting on the STA interface
    assert not hasattr(network, "STAT_CONNECT_FAIL")  # not on the ESP32
    raises(ValueError, network.hostname, "x" * 32)
    network.hostname("wmbus-gw")
    assert network.hostname() == "wmbus-gw" == wlan.config("dhcp_hostname")


def test_esp32_rejects_what_the_esp32_rejects():
    fresh_board()
    assert not hasattr(esp32, "mcu_temperature")  # ESP32-S2/S3/C3 only
    e = raises(OSError, esp32.NVS, "namespace_too_long")
    assert e.args[0] == -0x1109
    e = raises(OSError, esp32.Partition, "nope")
    assert e.args[0] == 2  # ENOENT
    raises(ValueError, esp32.Partition, 7)
    raises(TypeError, esp32.Partition, "vfs", block_size=4096)  # positional-only
    raises(TypeError, esp32.NVS, namespace="gw")
    raises(TypeError, esp32.NVS("gw").set_i32, "k", 1.5)
    raises(OverflowError, esp32.NVS("gw").set_i32, "k", 1 << 31)
    raises(TypeError, esp32.NVS("gw").get_blob, "k", bytes(4))  # must be a bytearray


# -- behaviour ----------------------------------------------------------------------------------

def test_reset_is_not_swallowed_by_except_exception():
    fresh_board()

    def firmware_loop():
        try:
            machine.reset()
        except Exception:
            return "swallowed"

    e = raises(machine.ResetCalled, firmware_loop)
    assert e.cause == machine.HARD_RESET
    machine._sim_reboot()
    assert machine.reset_cause() == machine.HARD_RESET
    e = raises(SystemExit, machine.deepsleep, 60000)
    assert e.cause == machine.DEEPSLEEP_RESET and machine._sleeps[-1] == ("deepsleep", 60000)
    machine._sim_reboot()
    assert machine.reset_cause() == machine.DEEPSLEEP_RESET
    assert machine.wake_reason() == machine.TIMER_WAKE


def test_wdt_expiry_and_reset():
    fresh_board()
    w = WDT(timeout=2000)
    assert not w.expired()
    machine._sim_advance(1500)
    w.feed()
    machine._sim_advance(1999)
    assert not w.expired()
    machine._sim_check_wdt()  # still alive
    machine._sim_advance(2)
    assert w.expired()
    e = raises(machine.ResetCalled, machine._sim_check_wdt)
    assert e.cause == machine.WDT_RESET
    machine._sim_reboot()
    assert machine.reset_cause() == machine.WDT_RESET
    assert machine._sim_wdt() is None  # off until the firmware creates it again
    assert w.feeds == 1


def test_wdt_expiry_across_the_ticks_wrap():
    fresh_board()
    period = 1 << 30  # the ESP32 ticks_ms period
    machine._sim_advance((period - 500 - machine._sim_ticks_ms()) % period)
    w = WDT(timeout=2000)
    assert w.last_feed == period - 500
    machine._sim_advance(1000)
    assert machine._sim_ticks_ms() == 500  # wrapped
    assert not w.expired()
    assert not w.expired((w.last_feed + 2000) % period)
    assert w.expired((w.last_feed + 2001) % period)
    machine._sim_advance(1001)
    assert w.expired()


def test_rtc_clock_and_memory_across_resets():
    fresh_board()
    r = RTC()
    assert r.datetime()[:3] == (2000, 1, 1)  # power-on
    r.datetime((2026, 11, 25, 0, 23, 59, 58, 0))
    machine._sim_advance(3000)
    assert r.datetime()[:7] == (2026, 11, 26, 3, 0, 0, 1)  # a Thursday, Monday is 0
    r.memory(b"spool@1234")
    raises(machine.ResetCalled, machine.reset)
    machine._sim_reboot()
    assert RTC().memory() == b"spool@1234"  # RTC_NOINIT memory survives a reset
    assert RTC().datetime()[0] == 2026
    machine._sim_power_cycle()
    assert RTC().memory() == b"" and RTC().datetime()[0] == 2000


def test_wlan_connects_after_the_delay():
    fresh_board()
    network._sim_set(ap_ssid="home", password="pw", connect_delay_ms=3000)
    wlan = network.WLAN(network.STA_IF)
    raises(OSError, wlan.connect, "home", "pw")  # not active yet
    wlan.active(True)
    assert wlan.status() == network.STAT_IDLE
    wlan.connect("home", "pw")
    assert wlan.status() == network.STAT_CONNECTING and not wlan.isconnected()
    assert wlan.ifconfig() == ("0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0")
    # the stand-ins' clock is real time plus _sim_advance: leave a loaded host half a second
    machine._sim_advance(2500)
    assert wlan.status() == network.STAT_CONNECTING
    machine._sim_advance(500)
    assert wlan.status() == network.STAT_GOT_IP and wlan.isconnected()
    cfg = wlan.ifconfig()
    assert len(cfg) == 4 and cfg[0] == "192.168.1.57"
    assert wlan.ipconfig("addr4") == ("192.168.1.57", "255.255.255.0")
    assert wlan.config("ssid") == "home" and wlan.config("reconnects") == -1
    mac = wlan.config("mac")
    assert isinstance(mac, bytes) and len(mac) == 6
    assert network.WLAN(network.AP_IF).config("mac") != mac
    assert isinstance(wlan.status("rssi"), int)
    wlan.disconnect()
    assert wlan.status() == network.STAT_IDLE and not wlan.isconnected()
    wlan.connect()  # the ssid and key given before
    machine._sim_advance(3000)
    assert wlan.isconnected()
    raises(machine.ResetCalled, machine.reset)
    machine._sim_reboot()
    wlan = network.WLAN(network.STA_IF)
    assert not wlan.active() and not wlan.isconnected()  # WiFi is off after a reset
    assert wlan.config("reconnects") == -1 and network.hostname() == "mpy-esp32"


def test_wlan_reconnects_by_itself_after_losing_the_link():
    fresh_board()
    network._sim_set(ap_ssid="home", password="pw", connect_delay_ms=1000)
    wlan = network.WLAN()
    wlan.active(True)
    wlan.connect("home", "pw")
    machine._sim_advance(1000)
    assert wlan.isconnected()
    network._sim_drop()  # beacon timeout, the AP is still there
    assert wlan.status() == network.STAT_CONNECTING
    machine._sim_advance(1000)
    assert wlan.status() == network.STAT_GOT_IP
    network._sim_set(reachable=False)
    network._sim_drop()
    machine._sim_advance(1000)
    assert wlan.status() == network.STAT_NO_AP_FOUND and not wlan.isconnected()
    before = network._sim_sta().attempts
    machine._sim_advance(30000)  # retried every second, without back-off
    assert network._sim_sta().attempts == before + 30
    network._sim_set(reachable=True)
    machine._sim_advance(1000)
    assert wlan.status() == network.STAT_GOT_IP
    assert network._sim_sta().connects == 1  # the driver did it, not the firmware


def test_wlan_wrong_password_and_reconnect_budget():
    fresh_board()
    network._sim_set(ap_ssid="home", password="pw", connect_delay_ms=2000)
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    wlan.connect("home", "wrong")
    machine._sim_advance(2000)
    assert wlan.status() == network.STAT_WRONG_PASSWORD
    machine._sim_advance(20000)
    assert network._sim_sta().attempts == 11  # forever by default
    wlan.config(reconnects=2)
    assert wlan.config("reconnects") == 2
    wlan.connect("home", "wrong")
    machine._sim_advance(60000)
    assert network._sim_sta().attempts == 11 + 3  # the first try and two reconnects
    assert wlan.status() == network.STAT_WRONG_PASSWORD
    wlan.connect("other", "pw")
    machine._sim_advance(2000)
    assert wlan.status() == network.STAT_NO_AP_FOUND


def test_nvs_commit_semantics():
    fresh_board()
    a = esp32.NVS("gw")
    a.set_i32("boots", 5)
    assert a.get_i32("boots") == 5  # the writer sees its change
    e = raises(OSError, esp32.NVS("gw").get_i32, "boots")  # nobody else before commit()
    assert e.args[0] == -0x1102
    a.commit()
    assert esp32.NVS("gw").get_i32("boots") == 5
    raises(OSError, esp32.NVS("other").get_i32, "boots")  # namespaces are separate
    key = bytes(range(16))
    a.set_blob("key", key)
    a.set_i32("boots", -(1 << 31))
    a.commit()
    b = esp32.NVS("gw")
    buf = bytearray(32)
    assert b.get_blob("key", buf) == 16 and bytes(buf[:16]) == key
    e = raises(OSError, b.get_blob, "key", bytearray(8))
    assert e.args[0] == -0x110C
    raises(OSError, b.get_i32, "key")  # a blob is not an i32
    assert b.get_i32("boots") == -(1 << 31)
    b.erase_key("key")
    assert esp32.NVS("gw").get_blob("key", bytearray(16)) == 16  # erase not committed yet
    b.commit()
    raises(OSError, esp32.NVS("gw").get_blob, "key", bytearray(16))
    raises(OSError, b.erase_key, "key")
    c = esp32.NVS("gw")
    c.set_i32("lost", 1)  # never committed: gone at the reset
    raises(machine.ResetCalled, machine.reset)
    machine._sim_reboot()
    raises(OSError, esp32.NVS("gw").get_i32, "lost")
    assert esp32._sim_nvs("gw") == {"boots": -(1 << 31)}


def _image_block(i, buf):
    """Block i of a made-up app image, into buf (one 4 KiB buffer reused, as an OTA
    download would): the first byte is the esp_image_header_t magic 0xE9."""
    for j in range(len(buf)):
        buf[j] = (i * 31 + j * 7 + 3) & 0xFF
    if i == 0:
        buf[0] = 0xE9


def test_partition_blocks_erase_and_nor_semantics():
    fresh_board()
    vfs = esp32.Partition("vfs")
    assert vfs.info() == (esp32.Partition.TYPE_DATA, 0x81, 0x310000, 0xF0000, "vfs", False)
    assert vfs.ioctl(4, 0) == 0xF0000 // 4096 and vfs.ioctl(5, 0) == 4096
    buf = bytearray(16)
    vfs.readblocks(3, buf)
    assert buf == bytearray(b"\xff" * 16)  # erased flash
    vfs.writeblocks(3, b"\x0f" * 16, 100)  # offset form: programs, never erases
    vfs.writeblocks(3, b"\xf0" * 16, 100)
    vfs.readblocks(3, buf, 100)
    assert buf == bytearray(16)  # 0x0f & 0xf0: bits only go from 1 to 0
    vfs.writeblocks(3, b"\xaa" * 4096)  # two-argument form erases the block first
    vfs.readblocks(3, buf, 100)
    assert buf == bytearray(b"\xaa" * 16)
    e = raises(OSError, vfs.writeblocks, 4, b"\x00" * 100)  # erase needs whole sectors
    assert e.args[0] == -0x104
    assert vfs.ioctl(6, 3) == 0
    vfs.readblocks(3, buf)
    assert buf == bytearray(b"\xff" * 16)
    raises(OSError, vfs.readblocks, 0xF0000 // 4096, buf)  # past the end
    assert len(esp32.Partition.find(esp32.Partition.TYPE_APP)) == 2
    assert esp32.Partition.find(esp32.Partition.TYPE_DATA, label="nvs")[0].info()[4] == "nvs"


def test_partition_ota_flow_with_rollback():
    fresh_board()
    run = esp32.Partition(esp32.Partition.RUNNING)
    assert run.info()[4] == "ota_0"
    raises(OSError, run.writeblocks, 0, bytes(4096))  # never the running slot
    nxt = run.get_next_update()
    assert nxt.info()[4] == "ota_1" and nxt.get_next_update().info()[4] == "ota_0"
    e = raises(OSError, nxt.set_boot)  # nothing valid written yet
    assert e.args[0] == -0x1503
    block = bytearray(4096)
    for i in range(3):
        _image_block(i, block)
        nxt.writeblocks(i, block)
    back = bytearray(256)  # read back in pieces, with the offset form
    for i in range(3):
        _image_block(i, block)
        for off in range(0, 4096, 256):
            nxt.readblocks(i, back, off)
            assert back == block[off:off + 256]
    nxt.set_boot()
    assert esp32.Partition(esp32.Partition.BOOT).info()[4] == "ota_1"
    assert esp32.Partition(esp32.Partition.RUNNING).info()[4] == "ota_0"
    raises(machine.ResetCalled, machine.reset)
    machine._sim_reboot()  # esp32's bootloader step runs too
    st = esp32._sim_boot_state()
    assert st["running"] == "ota_1" and st["pending_verify"]
    # the new image does not confirm itself: the next reset goes back to ota_0
    raises(machine.ResetCalled, machine.reset)
    machine._sim_reboot()  # esp32's bootloader step runs too
    st = esp32._sim_boot_state()
    assert st["running"] == "ota_0" and st["rolled_back"] == 1
    # again, and this time it confirms itself
    esp32.Partition(esp32.Partition.RUNNING).get_next_update().set_boot()
    esp32._sim_reboot()
    esp32.Partition.mark_app_valid_cancel_rollback()
    esp32._sim_reboot()
    st = esp32._sim_boot_state()
    assert st["running"] == "ota_1" and not st["pending_verify"] and st["rolled_back"] == 1


def test_mark_app_valid_without_rollback_support():
    fresh_board()
    esp32._sim_setup(rollback=False)
    e = raises(OSError, esp32.Partition.mark_app_valid_cancel_rollback)
    assert e.args[0] == -261


class FakeSPIDevice:
    """Answers each byte with its complement; remembers what it was sent."""

    def __init__(self):
        self.got = bytearray()

    def write(self, buf):
        self.got.extend(buf)

    def read(self, n, write=0):
        self.got.extend(bytes((write,)) * n)
        return bytes((write ^ 0xFF,)) * n

    def readinto(self, buf, write=0):
        for i in range(len(buf)):
            self.got.append(write)
            buf[i] = write ^ 0xFF

    def write_readinto(self, out, inbuf):
        for i in range(len(out)):
            self.got.append(out[i])
            inbuf[i] = out[i] ^ 0xFF


class TransferOnly:
    """A device that implements only the full-duplex transfer."""

    def __init__(self):
        self.got = bytearray()

    def write_readinto(self, out, inbuf):
        self.got.extend(out)
        for i in range(len(out)):
            inbuf[i] = 0x5A


def test_spi_forwards_to_the_attached_device():
    fresh_board()
    dev = FakeSPIDevice()
    machine._sim_attach_spi(1, dev)
    spi = SPI(1, 5000000, sck=14, mosi=13, miso=12)
    spi.write(b"\x30")
    assert spi.read(2, 0x3D) == b"\xc2\xc2"
    buf = bytearray(3)
    spi.readinto(buf, 0x01)
    assert buf == bytearray(b"\xfe\xfe\xfe")
    spi.write_readinto(b"\x00\xff", buf[:2])
    out = bytearray(2)
    spi.write_readinto(b"\x00\xff", out)
    assert out == bytearray(b"\xff\x00")
    assert bytes(dev.got) == b"\x30\x3d\x3d\x01\x01\x01\x00\xff\x00\xff"
    assert spi.transfers == 5
    machine._sim_attach_spi(1, TransferOnly())
    assert spi.read(2) == b"\x5a\x5a"
    machine._sim_attach_spi(1, None)  # no radio: MISO floats high
    assert spi.read(2) == b"\xff\xff"
    spi.readinto(buf)
    assert buf == bytearray(b"\xff\xff\xff")


def test_spi_reports_the_clock_the_esp32_makes():
    fresh_board()
    spi = SPI(2, 6500000)
    assert spi.baudrate == 6500000
    assert "baudrate=6666666" in repr(spi)  # 80 MHz / 12
    spi.init(baudrate=100000000)
    assert "baudrate=80000000" in repr(spi)


class FakeUARTModule:
    def __init__(self):
        self.got = bytearray()
        self.pending = bytearray()

    def write(self, buf):
        self.got.extend(buf)
        if bytes(buf) == b"\xa5\x01":
            self.pending.extend(b"\xa5\x02\x00")

    def read(self):
        out, self.pending = bytes(self.pending), bytearray()
        return out or None


def test_uart_forwards_to_the_attached_device():
    fresh_board()
    dev = FakeUARTModule()
    machine._sim_attach_uart(2, dev)
    u = UART(2, 57600, tx=17, rx=16, rxbuf=512)
    assert u.read() is None and u.any() == 0 and u.readline() is None
    assert u.readinto(bytearray(4)) is None
    assert u.write(b"\xa5\x01") == 2
    assert bytes(dev.got) == b"\xa5\x01"
    assert u.any() == 3
    assert u.read(2) == b"\xa5\x02"
    buf = bytearray(4)
    assert u.readinto(buf) == 1 and buf[0] == 0
    assert u.read() is None


def test_uart_irq_overflow_and_no_device():
    fresh_board()
    u = UART(1, 9600, tx=17, rx=16)
    seen = []
    u.irq(handler=lambda x: seen.append(x.any()), trigger=UART.IRQ_RX)
    machine._sim_uart_feed(1, b"hello\nworld")
    assert seen == [11]
    assert u.readline() == b"hello\n" and u.read() == b"world"
    machine._sim_uart_feed(1, bytes(500))  # 256-byte ring + 128-byte FIFO
    assert u.any() == 384 and u._sim_overflow == 116
    u.write(b"AT\r\n")  # nothing attached: kept for the test
    assert bytes(u.written) == b"AT\r\n"


def test_pin_irq_fires_on_the_driven_edge():
    fresh_board()
    seen = []
    p = Pin(4, Pin.IN, Pin.PULL_UP)
    assert p.value() == 1  # nothing drives it: the pull-up wins
    irq = p.irq(trigger=Pin.IRQ_FALLING, handler=lambda pin: seen.append((pin, pin.value())))
    machine._sim_drive(4, 0)
    assert seen == [(Pin(4), 0)]
    p._sim_drive(1)  # rising: not asked for
    assert len(seen) == 1
    assert irq.trigger() == Pin.IRQ_FALLING
    irq()  # calling the irq object runs the handler
    assert len(seen) == 2
    p.irq(None)
    machine._sim_drive(4, 0)
    assert len(seen) == 2 and machine._sim_pin(4).irq_count == 1


def test_output_pins_record_their_writes():
    fresh_board()
    cs = Pin(5, Pin.OUT, value=1)
    assert cs.value() == 1 and cs() == 1
    cs.off()
    cs(1)
    cs.value(0)
    cs.on()
    cs.toggle()
    assert cs._sim_writes == [0, 1, 0, 1, 0] and cs.value() == 0
    assert Pin(5)._sim_mode == Pin.OUT  # every Pin(5) is the same pad
    seen = []
    q = Pin(27, Pin.OUT)
    q.irq(handler=lambda pin: seen.append(pin.value()), trigger=Pin.IRQ_RISING)
    q.on()  # the ESP32 reads back the pad of an output, so its irq fires too
    assert seen == [1]
    machine._sim_reboot()
    assert Pin(5)._sim_mode is None  # configuration does not survive a reset


class SimLine:
    """A simulator's pin: it holds the level and detects its own edges."""

    def __init__(self):
        self.level = 1
        self.handler = None
        self.trigger = 0

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = v

    def irq(self, handler=None, trigger=3):
        self.handler, self.trigger = handler, trigger

    def set(self, v):
        if v != self.level:
            self.level = v
            if self.handler is not None and self.trigger & (1 if v else 2):
                self.handler(self)


def test_attached_pins_forward_levels_and_irqs():
    fresh_board()
    cs_line, gdo_line = SimLine(), SimLine()
    machine._sim_attach_pin(15, cs_line)
    machine._sim_attach_pin(4, gdo_line)
    cs = Pin(15, Pin.OUT, value=1)
    cs(0)
    assert cs_line.level == 0
    gdo = Pin(4, Pin.IN)
    seen = []
    gdo.irq(trigger=Pin.IRQ_FALLING, handler=seen.append)
    assert gdo.value() == 1
    gdo_line.set(0)
    assert seen == [Pin(4)] and gdo.value() == 0


def test_ntptime_sets_the_rtc():
    fresh_board()
    e = raises(OSError, ntptime.time)  # no WiFi: getaddrinfo fails
    assert e.args[0] == -202
    network._sim_set(connect_delay_ms=0)
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    wlan.connect("gateway-test", "secret-password")
    machine._sim_advance(1)
    assert wlan.isconnected()
    assert abs(ntptime.time() - int(time.time())) <= 2  # in the interpreter's epoch
    ntptime.settime()
    now = time.gmtime(int(time.time()))
    assert RTC().datetime()[:3] == (now[0], now[1], now[2])
    ntptime.host = "192.168.1.1"
    ntptime._sim_set(reachable=False)
    e = raises(OSError, ntptime.time)
    assert e.args[0] == 110  # ETIMEDOUT
    assert ntptime.queries[-1] == ("192.168.1.1", 1)


def test_ntptime_handles_the_2036_wrap():
    fresh_board()
    network._sim_set(connect_delay_ms=0)
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    wlan.connect("gateway-test", "secret-password")
    machine._sim_advance(1)
    ntptime._sim_set(server_time=100)  # 100 s after the 32-bit NTP seconds wrapped
    assert ntptime.time() == 100 + (1 << 32) - 2208988800
    ntptime.settime()
    assert RTC().datetime()[:6] == (2036, 2, 7, 3, 6, 29)
