"""Host stand-in for MicroPython's `machine` module as the ESP32 port (v1.28) has it.

Strict: the classes take the positional and keyword arguments the ESP32 port's C code parses
(ports/esp32/machine_pin.c, machine_hw_spi.c, machine_uart.c, machine_timer.c, machine_rtc.c,
modmachine.c, extmod/machine_wdt.c), so a misspelt keyword is a TypeError and an invalid id a
ValueError here as on the board. Observable: every object keeps what the firmware did to it.
Attachable: SPI, UART and Pin forward their I/O to simulators attached with `_sim_attach_*`.

Everything whose name starts with `_sim_` is host-only and does not exist on the device.
Runs unchanged on CPython and on the MicroPython unix port (tools/standins/README.md).
"""

import sys
import time

_MICROPYTHON = sys.implementation.name == "micropython"

# -- the stand-ins' clock ----------------------------------------------------------------------
# ESP32 ticks_ms wraps at 2**30 (micropython-esp32.md §1 Time); the stand-ins keep their
# timestamps in that period on both interpreters, plus a skew that _sim_advance adds so that
# tests can let seconds pass without sleeping.
_TICKS_PERIOD = 1 << 30
_TICKS_MASK = _TICKS_PERIOD - 1
_TICKS_HALF = _TICKS_PERIOD >> 1
_skew_ms = 0

if _MICROPYTHON:
    def _raw_ms():
        return time.ticks_ms()  # 2**62 period on the 64-bit unix port: never wraps
else:
    def _raw_ms():
        return int(time.monotonic() * 1000)


def _sim_now_ms():
    """Milliseconds on a clock that never wraps (host-only; includes _sim_advance)."""
    return _raw_ms() + _skew_ms


def _sim_ticks_ms():
    """The stand-ins' ticks_ms, in the ESP32's 2**30 period (host-only)."""
    return _sim_now_ms() & _TICKS_MASK


def _sim_ticks_diff(end, start):
    return ((end - start + _TICKS_HALF) & _TICKS_MASK) - _TICKS_HALF


def _sim_advance(ms):
    """Let `ms` milliseconds pass on the stand-ins' clock without sleeping (host-only)."""
    global _skew_ms
    _skew_ms += ms


_UNSET = object()  # "argument not given", where None is a meaningful value


# -- resets (modmachine.c) ---------------------------------------------------------------------
PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

# wake_reason() values: esp_sleep_wakeup_cause_t (IDF 5)
PIN_WAKE = EXT0_WAKE = 2
EXT1_WAKE = 3
TIMER_WAKE = 4
TOUCHPAD_WAKE = 5
ULP_WAKE = 6
SLEEP = 2
DEEPSLEEP = 4


class ResetCalled(SystemExit):
    """Host-only: raised where the board would restart (reset, deepsleep, WDT expiry), so a
    test can catch it. A SystemExit, so that the firmware's `except Exception` cannot swallow
    it - on the device nothing runs after a reset either. `cause` is what reset_cause() will
    say after `_sim_reboot()`."""

    def __init__(self, cause, why=""):
        super().__init__(cause)
        self.cause = cause
        self.why = why


_reset_cause = PWRON_RESET
_pending_cause = None
_wake_reason = 0
_resets = []  # (cause, why) of every reset the firmware asked for
_freq_hz = 160000000  # ESP32_GENERIC boots at 160 MHz (CONFIG_ESP_DEFAULT_CPU_FREQ_MHZ_160)
_UNIQUE_ID = b"\x24\x0a\xc4\x12\x34\x56"  # base MAC from eFuse; 24:0A:C4 is an Espressif OUI
_irq_state = 0
_sleeps = []  # (kind, ms) for every lightsleep/deepsleep call


def _restart(cause, why):
    global _pending_cause
    _pending_cause = cause
    _resets.append((cause, why))
    raise ResetCalled(cause, why)


def reset():
    _restart(HARD_RESET, "reset")  # esp_restart() comes back as ESP_RST_SW -> HARD_RESET


def soft_reset():
    _restart(SOFT_RESET, "soft_reset")


def reset_cause():
    return _reset_cause


def wake_reason():
    return _wake_reason


def unique_id():
    return bytes(_UNIQUE_ID)


def freq(*args):
    global _freq_hz
    if len(args) > 1:
        raise TypeError("function takes at most 1 positional argument")
    if not args:
        return _freq_hz
    mhz = int(args[0]) // 1000000  # the port divides before checking, as here
    if mhz not in (20, 40, 80, 160, 240):
        raise ValueError("frequency must be 20MHz, 40MHz, 80Mhz, 160MHz or 240MHz")
    _freq_hz = mhz * 1000000


def idle():
    pass


def disable_irq():
    global _irq_state
    state, _irq_state = _irq_state, 1
    return state


def enable_irq(state):
    global _irq_state
    _irq_state = state


def lightsleep(*args):
    """Returns after the time has passed (advanced on the stand-ins' clock, no real sleep)."""
    if len(args) > 1:
        raise TypeError("function takes at most 1 positional argument")
    ms = int(args[0]) if args else 0
    _sleeps.append(("lightsleep", ms))
    _sim_advance(ms)


def deepsleep(*args):
    """Never returns on the ESP32: the chip wakes through a reset (DEEPSLEEP_RESET)."""
    if len(args) > 1:
        raise TypeError("function takes at most 1 positional argument")
    ms = int(args[0]) if args else 0
    _sleeps.append(("deepsleep", ms))
    _sim_advance(ms)
    _restart(DEEPSLEEP_RESET, "deepsleep")


def _sim_set_reset_cause(cause, wake=0):
    """What reset_cause() / wake_reason() report, e.g. WDT_RESET after a watchdog bite."""
    global _reset_cause, _wake_reason
    _reset_cause = cause
    _wake_reason = wake


def _sim_reboot():
    """Host-only: the board comes back after a ResetCalled. reset_cause() reports why, the
    watchdog is off until the firmware creates it again, RTC memory and the RTC clock survive
    (RTC_NOINIT_ATTR), the CPU clock, GPIO configuration and IRQ handlers do not. Attached
    simulators stay wired. The other stand-ins, if loaded, reboot too: esp32 does the
    bootloader's part (OTA slot, rollback), network comes up with WiFi off."""
    global _reset_cause, _pending_cause, _wdt, _wake_reason, _freq_hz, _irq_state
    _reset_cause = _pending_cause if _pending_cause is not None else HARD_RESET
    _wake_reason = TIMER_WAKE if _reset_cause == DEEPSLEEP_RESET else 0
    _pending_cause = None
    _wdt = None
    _freq_hz = 160000000
    _irq_state = 0
    for name in ("esp32", "network"):
        mod = sys.modules.get(name)
        hook = getattr(mod, "_sim_reboot", None) if mod is not None else None
        if hook is not None:
            hook()
    for st in _pins.values():
        st.reset_config()
    for uart in _uarts.values():
        uart._irq = None
    for t in _timers.values():
        t._armed = False


def _sim_power_cycle():
    """Host-only: power off and on. RTC memory and the RTC clock are lost."""
    global _pending_cause
    _pending_cause = PWRON_RESET
    _sim_reboot()
    _rtc_mem[:] = b""
    _rtc_set_seconds(0, 0)


# -- Pin (machine_pin.c) -----------------------------------------------------------------------
# GPIOs of an ESP32 (GPIO_PIN_COUNT 40): 20, 24 and 28-31 do not exist; 34-39 are input-only.
_GPIOS = frozenset(list(range(0, 20)) + [21, 22, 23, 25, 26, 27] + list(range(32, 40)))
_FIRST_INPUT_ONLY = 34
_RTC_GPIOS = frozenset((0, 2, 4, 12, 13, 14, 15, 25, 26, 27, 32, 33, 34, 35, 36, 37, 38, 39))
_WRITES_KEPT = 64  # a pin remembers its last writes (CS toggles, resets) for the tests


def _pin_id(pin):
    """machine_pin_get_id: a Pin or a GPIO number."""
    if isinstance(pin, Pin):
        return pin.id
    if isinstance(pin, int) and not isinstance(pin, bool) and pin in _GPIOS:
        return pin
    raise ValueError("invalid pin")


class _PinState:
    """One GPIO pad, shared by every Pin(n) object (the port returns one static object)."""

    def __init__(self, n):
        self.n = n
        self.attached = None  # a simulator's pin-like object (value(), maybe irq())
        self.external = None  # the level driven from outside by _sim_drive, or None
        self.irq_obj = _PinIRQ(self)
        self.writes = []
        self.write_count = 0
        self.irq_count = 0
        self.reset_config()

    def reset_config(self):
        self.mode = None  # as after reset: not configured by the firmware
        self.pull = None
        self.drive = None
        self.hold = False
        self.latch = 0
        self.handler = None
        self.trigger = 0
        self.wake = None

    def level(self):
        if self.attached is not None and self.mode != Pin.OUT:
            return 1 if self.attached.value() else 0
        if self.mode == Pin.OUT:
            return self.latch
        ext = self.external
        if ext is None:  # nothing drives the pad: the pull decides, floating reads low
            ext = 1 if self.pull == Pin.PULL_UP else 0
        if self.mode == Pin.OPEN_DRAIN and self.latch == 0:
            return 0
        return ext

    def write(self, v):
        before = self.level() if self.attached is None else None
        self.latch = v
        self.write_count += 1
        w = self.writes
        if len(w) >= _WRITES_KEPT:
            w.pop(0)
        w.append(v)
        if self.attached is not None:
            self.attached.value(v)
        else:
            self.edge(before)

    def edge(self, before):
        """Call the handler when the pad level changed the way `trigger` asks for."""
        now = self.level()
        if now == before or self.handler is None:
            return
        if self.trigger & (Pin.IRQ_RISING if now else Pin.IRQ_FALLING):
            self.irq_count += 1
            # The ESP32 schedules a soft callback (mp_sched_schedule); here it runs at once.
            self.handler(Pin(self.n))


def _state(n):
    st = _pins.get(n)
    if st is None:
        st = _pins[n] = _PinState(n)
    return st


_pins = {}


class _PinIRQ:
    """What Pin.irq() returns: irq() calls the handler, trigger() reads/sets the trigger."""

    def __init__(self, st):
        self._st = st

    def __call__(self):
        st = self._st
        if st.handler is not None:
            st.handler(Pin(st.n))

    def trigger(self, *args):
        if len(args) > 1:
            raise TypeError("function takes at most 2 positional arguments")
        st = self._st
        old = st.trigger
        if args:
            st.trigger = int(args[0])
        return old


class Pin:
    IN = 1  # GPIO_MODE_INPUT
    OUT = 3  # GPIO_MODE_INPUT_OUTPUT: the port reads back the pad
    OPEN_DRAIN = 7  # GPIO_MODE_INPUT_OUTPUT_OD
    PULL_DOWN = 1
    PULL_UP = 2
    IRQ_RISING = 1  # GPIO_INTR_POSEDGE
    IRQ_FALLING = 2  # GPIO_INTR_NEGEDGE
    WAKE_LOW = 4  # GPIO_INTR_LOW_LEVEL
    WAKE_HIGH = 5  # GPIO_INTR_HIGH_LEVEL
    DRIVE_0 = 0
    DRIVE_1 = 1
    DRIVE_2 = 2
    DRIVE_3 = 3

    def __init__(self, id, mode=_UNSET, pull=_UNSET, *, value=_UNSET, drive=_UNSET,
                 hold=_UNSET):
        self.id = _pin_id(id)
        self._st = _state(self.id)
        if not (mode is _UNSET and pull is _UNSET and value is _UNSET and drive is _UNSET
                and hold is _UNSET):
            self.init(None if mode is _UNSET else mode, -1 if pull is _UNSET else pull,
                      value=value, drive=drive, hold=hold)

    def init(self, mode=None, pull=-1, *, value=_UNSET, drive=_UNSET, hold=_UNSET):
        st = self._st
        if mode is not None and mode not in (Pin.IN, Pin.OUT, Pin.OPEN_DRAIN):
            raise ValueError("invalid pin mode")
        if mode in (Pin.OUT, Pin.OPEN_DRAIN) and self.id >= _FIRST_INPUT_ONLY:
            raise ValueError("pin can only be input")
        if pull is not None and pull != -1 and pull not in (Pin.PULL_UP, Pin.PULL_DOWN,
                                                             Pin.PULL_UP | Pin.PULL_DOWN):
            raise ValueError("invalid pull")
        if value is not _UNSET:  # set before the mode, as the port does
            st.latch = 1 if value else 0
            if st.attached is not None:
                st.attached.value(st.latch)
        if drive is not _UNSET and drive not in (0, 1, 2, 3):
            raise ValueError("invalid drive")
        if drive is not _UNSET:
            st.drive = drive
        if mode is not None:
            st.mode = mode
        if pull != -1:
            st.pull = pull
        if hold is not _UNSET:
            st.hold = bool(hold)
        if st.attached is not None and hasattr(st.attached, "init"):
            st.attached.init(mode, pull)

    def value(self, *args):
        if len(args) > 1:
            raise TypeError("function takes at most 2 positional arguments")
        if not args:
            return self._st.level()
        self._st.write(1 if args[0] else 0)
        return None

    def __call__(self, *args):
        return self.value(*args)

    def on(self):
        self._st.write(1)

    def off(self):
        self._st.write(0)

    def toggle(self):
        self._st.write(1 - self._st.latch)

    def irq(self, handler=_UNSET, trigger=_UNSET, wake=None):
        st = self._st
        if handler is _UNSET and trigger is _UNSET and wake is None:
            return st.irq_obj  # query only
        handler = None if handler is _UNSET else handler
        trigger = (Pin.IRQ_FALLING | Pin.IRQ_RISING) if trigger is _UNSET else int(trigger)
        if trigger in (Pin.WAKE_LOW, Pin.WAKE_HIGH) and wake is not None:
            if not isinstance(wake, int) or wake < 2 or wake > 7:
                raise ValueError("bad wake value")
            if self.id not in _RTC_GPIOS:
                raise ValueError("invalid pin for wake")
            st.wake = (trigger, wake)
            return st.irq_obj
        if handler is None:
            trigger = 0
        st.handler = handler
        st.trigger = trigger
        att = st.attached
        if att is not None and hasattr(att, "irq"):
            # The simulator detects the edges; its callback must hand over this Pin.
            pin = self
            att.irq(handler=None if handler is None else (lambda _p: handler(pin)),
                    trigger=trigger)
        return st.irq_obj

    def __repr__(self):
        return "Pin(%d)" % self.id

    def __eq__(self, other):
        return isinstance(other, Pin) and other.id == self.id

    def __hash__(self):
        return self.id

    # host-only -------------------------------------------------------------------------------
    def _sim_drive(self, level):
        """Drive the pad from outside (a sensor, a button) and fire the irq on an edge."""
        _sim_drive(self.id, level)

    @property
    def _sim_mode(self):
        return self._st.mode

    @property
    def _sim_pull(self):
        return self._st.pull

    @property
    def _sim_writes(self):
        return list(self._st.writes)


def _sim_drive(n, level):
    """Host-only: drive GPIO n to `level` from outside; an edge fires the pin's irq handler."""
    st = _state(_pin_id(n))
    before = st.level()
    st.external = 1 if level else 0
    st.edge(before)


def _sim_attach_pin(n, pinlike):
    """Host-only: wire GPIO n to a simulator's pin (value() / value(v), optionally irq() and
    init()). Reads and writes of Pin(n) then go to it; Pin.irq is forwarded when it has irq.
    None detaches."""
    _state(_pin_id(n)).attached = pinlike


def _sim_pin(n):
    """Host-only: the recorded state of GPIO n (mode, pull, latch, handler, trigger, writes)."""
    return _state(_pin_id(n))


# -- Signal (extmod/machine_signal.c) ----------------------------------------------------------
class Signal:
    def __init__(self, pin, *args, invert=False, **pin_kw):
        self._pin = pin if isinstance(pin, Pin) and not args and not pin_kw else \
            Pin(pin, *args, **pin_kw)
        self._invert = 1 if invert else 0

    def value(self, *args):
        if not args:
            return self._pin.value() ^ self._invert
        self._pin.value((1 if args[0] else 0) ^ self._invert)

    def __call__(self, *args):
        return self.value(*args)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


# -- SPI (machine_hw_spi.c, extmod/machine_spi.c) ----------------------------------------------
_APB_HZ = 80000000
# IO_MUX pins of each host: faster than 40 MHz only on these (micropython-esp32.md §1 SPI).
_SPI_DEFAULT_PINS = {1: (14, 13, 12), 2: (18, 23, 19)}  # (sck, mosi, miso): HSPI, VSPI
_spi_devices = {}
_spis = {}


def _sim_attach_spi(id, device):
    """Host-only: SPI(id) transfers go to `device` (write / read / readinto / write_readinto,
    the machine.SPI methods). None detaches: reads then see a floating MISO (0xFF)."""
    _spi_devices[id] = device


def _spi_actual_hz(hz):
    """The clock the ESP32 really makes: 80 MHz APB divided by a whole number, the divider
    nearest to the request (spi_hal_master_cal_clock); print(spi) shows it (quickref)."""
    if hz >= _APB_HZ:
        return _APB_HZ
    div = (_APB_HZ + hz // 2) // hz if hz > 0 else 1
    return _APB_HZ // max(1, div)


class SPI:
    MSB = 0
    LSB = 1

    def __init__(self, id, baudrate=500000, *, polarity=0, phase=0, bits=8, firstbit=0,
                 sck=_UNSET, mosi=_UNSET, miso=_UNSET):
        if id == -1:
            raise ValueError("SPI(-1) is deprecated, use SoftSPI")
        if id not in (1, 2):
            raise ValueError("SPI ID must be either HSPI(1) or VSPI(2)")
        self.id = id
        d = _SPI_DEFAULT_PINS[id]
        self.sck = self.mosi = self.miso = None
        self._set(baudrate, polarity, phase, bits, firstbit,
                  d[0] if sck is _UNSET else sck, d[1] if mosi is _UNSET else mosi,
                  d[2] if miso is _UNSET else miso)
        self._deinit = False
        self.transfers = 0  # host-only counters
        self.bytes = 0
        _spis[id] = self

    def _set(self, baudrate, polarity, phase, bits, firstbit, sck, mosi, miso):
        if baudrate is not None:
            if int(baudrate) <= 0:  # spi_bus_add_device: ESP_ERR_INVALID_ARG
                raise OSError("invalid configuration")
            self.baudrate = int(baudrate)
            self._sim_actual_baudrate = _spi_actual_hz(self.baudrate)
        if polarity is not None:
            self.polarity = int(polarity) & 1
        if phase is not None:
            self.phase = int(phase) & 1
        if bits is not None:
            self.bits = int(bits)
        if firstbit is not None:
            self.firstbit = int(firstbit)
        for name, p in (("sck", sck), ("mosi", mosi), ("miso", miso)):
            if p is not _UNSET:
                setattr(self, name, -1 if p is None else _pin_id(p))

    def init(self, baudrate=None, *, polarity=None, phase=None, bits=None, firstbit=None,
             sck=_UNSET, mosi=_UNSET, miso=_UNSET):
        self._set(baudrate, polarity, phase, bits, firstbit, sck, mosi, miso)
        self._deinit = False

    def deinit(self):
        self._deinit = True

    def _check(self, n):
        if self._deinit:
            raise OSError("transfer on deinitialized SPI")
        if n * 8 // self.bits == 0:
            raise ValueError("buffer too short")
        self.transfers += 1
        self.bytes += n

    def _device(self):
        return _spi_devices.get(self.id)

    # read/readinto take `write` positionally only: extmod/machine_spi.c parses them as
    # VAR_BETWEEN(2, 3), so spi.read(2, write=0xFF) is a TypeError on the board.
    def read(self, nbytes, *args):
        if len(args) > 1:
            raise TypeError("function takes at most 3 positional arguments")
        write = args[0] if args else 0x00
        self._check(nbytes)
        dev = self._device()
        if dev is None:
            return b"\xff" * nbytes
        if hasattr(dev, "read"):
            return bytes(dev.read(nbytes, write))
        buf = bytearray(nbytes)
        out = bytearray(nbytes)
        for i in range(nbytes):
            out[i] = write
        dev.write_readinto(out, buf)
        return bytes(buf)

    def readinto(self, buf, *args):
        if len(args) > 1:
            raise TypeError("function takes at most 3 positional arguments")
        write = args[0] if args else 0x00
        self._check(len(buf))
        dev = self._device()
        if dev is None:
            for i in range(len(buf)):
                buf[i] = 0xFF
        elif hasattr(dev, "readinto"):
            dev.readinto(buf, write)
        else:
            out = bytearray(len(buf))
            for i in range(len(buf)):
                out[i] = write
            dev.write_readinto(out, buf)
        return None

    def write(self, buf):
        self._check(len(buf))
        dev = self._device()
        if dev is not None:
            if hasattr(dev, "write"):
                dev.write(buf)
            else:
                dev.write_readinto(buf, bytearray(len(buf)))
        return None

    def write_readinto(self, write_buf, read_buf):
        if len(write_buf) != len(read_buf):
            raise ValueError("buffers must be the same length")
        self._check(len(write_buf))
        dev = self._device()
        if dev is None:
            for i in range(len(read_buf)):
                read_buf[i] = 0xFF
        else:
            dev.write_readinto(write_buf, read_buf)
        return None

    def __repr__(self):
        return ("SPI(id=%d, baudrate=%d, polarity=%d, phase=%d, bits=%d, firstbit=%d, sck=%d, "
                "mosi=%d, miso=%d)" % (self.id, self._sim_actual_baudrate, self.polarity,
                                       self.phase, self.bits, self.firstbit, self.sck,
                                       self.mosi, self.miso))

    __str__ = __repr__


# -- UART (machine_uart.c) ---------------------------------------------------------------------
_UART_COUNT = 3  # UART_NUM_MAX on the ESP32
_UART_HW_FIFO = 128
_UART_DEFAULT_PINS = {0: (-1, -1), 1: (10, 9), 2: (17, 16)}  # (tx, rx) as the port sets them
_uart_devices = {}
_uarts = {}


def _sim_attach_uart(id, device):
    """Host-only: UART(id) writes go to device.write(buf); what device.read() returns (bytes,
    or None / b"" when it has nothing) arrives on RX when the firmware polls. None detaches."""
    _uart_devices[id] = device


def _sim_uart_feed(id, data):
    """Host-only: bytes arrive on UART(id)'s RX line now (fires an IRQ_RX handler)."""
    u = _uarts.get(id)
    if u is None:
        raise ValueError("UART(%d) not created by the firmware" % id)
    u._rx_in(data)


class UART:
    INV_TX = 32  # UART_SIGNAL_TXD_INV
    INV_RX = 4  # UART_SIGNAL_RXD_INV
    INV_RTS = 64  # UART_SIGNAL_RTS_INV
    INV_CTS = 8  # UART_SIGNAL_CTS_INV
    RTS = 1  # UART_HW_FLOWCTRL_RTS
    CTS = 2  # UART_HW_FLOWCTRL_CTS
    # IRQ triggers. Stand-in values: the firmware must use the names, never the numbers.
    IRQ_RX = 1
    IRQ_BREAK = 128
    IRQ_RXIDLE = 4096

    def __init__(self, id, baudrate=_UNSET, bits=_UNSET, parity=_UNSET, stop=_UNSET, *,
                 tx=_UNSET, rx=_UNSET, rts=_UNSET, cts=_UNSET, txbuf=_UNSET, rxbuf=_UNSET,
                 timeout=_UNSET, timeout_char=_UNSET, invert=_UNSET, flow=_UNSET):
        if not isinstance(id, int) or id < 0 or id >= _UART_COUNT:
            raise ValueError("UART(%s) does not exist" % (id,))
        self.id = id
        self.baudrate = 115200
        self.bits = 8
        self.parity = None
        self.stop = 1
        self.tx, self.rx = _UART_DEFAULT_PINS[id]
        self.rts = self.cts = -1
        self.txbuf = self.rxbuf = 256  # the IDF minimum, against a 128-byte FIFO
        self.timeout = self.timeout_char = 0
        self.invert = self.flow = 0
        self._rx = bytearray()
        self._irq = None
        self._deinit = False
        self.written = bytearray()  # host-only: everything sent while no device is attached
        self.tx_bytes = 0
        self._sim_overflow = 0  # bytes lost because the RX buffer was full
        self.init(baudrate, bits, parity, stop, tx=tx, rx=rx, rts=rts, cts=cts, txbuf=txbuf,
                  rxbuf=rxbuf, timeout=timeout, timeout_char=timeout_char, invert=invert,
                  flow=flow)
        _uarts[id] = self

    def init(self, baudrate=_UNSET, bits=_UNSET, parity=_UNSET, stop=_UNSET, *, tx=_UNSET,
             rx=_UNSET, rts=_UNSET, cts=_UNSET, txbuf=_UNSET, rxbuf=_UNSET, timeout=_UNSET,
             timeout_char=_UNSET, invert=_UNSET, flow=_UNSET):
        if baudrate is not _UNSET and baudrate:
            if int(baudrate) < 0:
                raise ValueError("invalid baudrate")
            self.baudrate = int(baudrate)
        if bits is not _UNSET and bits:
            if bits not in (5, 6, 7, 8):
                raise ValueError("invalid data bits")
            self.bits = bits
        if parity is not _UNSET:
            self.parity = None if parity is None else (int(parity) & 1)
        if stop is not _UNSET and stop:
            if stop not in (1, 2):
                raise ValueError("invalid stop bits")
            self.stop = stop
        for name, p in (("tx", tx), ("rx", rx), ("rts", rts), ("cts", cts)):
            if p is not _UNSET:
                setattr(self, name, -1 if p is None else _pin_id(p))
        for name, n in (("txbuf", txbuf), ("rxbuf", rxbuf), ("timeout", timeout),
                        ("timeout_char", timeout_char)):
            if n is not _UNSET:
                if int(n) < 0:
                    raise ValueError("invalid %s" % name)
                setattr(self, name, int(n))
        if invert is not _UNSET:
            if invert & ~(UART.INV_TX | UART.INV_RX | UART.INV_RTS | UART.INV_CTS):
                raise ValueError("invalid inversion mask")
            self.invert = invert
        if flow is not _UNSET:
            if flow & ~(UART.RTS | UART.CTS):
                raise ValueError("invalid flow control mask")
            self.flow = flow
        self._deinit = False

    def deinit(self):
        self._deinit = True

    def _rx_in(self, data):
        if not data:
            return
        room = self.rxbuf + _UART_HW_FIFO - len(self._rx)
        if len(data) > room:  # the IDF ring buffer is full: the rest is lost
            self._sim_overflow += len(data) - max(room, 0)
            data = data[:max(room, 0)]
        self._rx.extend(data)
        irq = self._irq
        if irq is not None and irq[1] & UART.IRQ_RX and irq[0] is not None:
            irq[0](self)

    def _poll(self):
        dev = _uart_devices.get(self.id)
        if dev is not None and hasattr(dev, "read"):
            data = dev.read()
            if data:
                self._rx_in(data)

    def any(self):
        self._poll()
        return len(self._rx)

    def read(self, *args):
        if len(args) > 1:
            raise TypeError("function takes at most 2 positional arguments")
        self._poll()
        if not self._rx:
            return None  # EAGAIN after `timeout` ms: the stream layer returns None
        n = len(self._rx) if not args or args[0] is None or args[0] < 0 else args[0]
        if n == 0:
            return b""
        out = bytes(self._rx[:n])
        self._rx = self._rx[n:]
        return out

    def readinto(self, buf, *args):
        if len(args) > 1:
            raise TypeError("function takes at most 3 positional arguments")
        self._poll()
        if not self._rx:
            return None
        n = min(len(buf), len(self._rx), args[0] if args else len(buf))
        buf[:n] = self._rx[:n]
        self._rx = self._rx[n:]
        return n

    def readline(self):
        self._poll()
        if not self._rx:
            return None
        i = bytes(self._rx).find(b"\n")
        n = len(self._rx) if i < 0 else i + 1
        out = bytes(self._rx[:n])
        self._rx = self._rx[n:]
        return out

    def write(self, buf):
        if isinstance(buf, str):
            buf = buf.encode()
        data = bytes(buf)
        self.tx_bytes += len(data)
        dev = _uart_devices.get(self.id)
        if dev is not None:
            dev.write(data)
        else:
            self.written.extend(data)
        return len(data)

    def flush(self):
        pass

    def txdone(self):
        return True

    def sendbreak(self):
        dev = _uart_devices.get(self.id)
        if dev is not None and hasattr(dev, "sendbreak"):
            dev.sendbreak()

    def irq(self, handler=None, trigger=0, hard=False):
        if hard:
            raise ValueError("hard IRQ is not supported")
        if trigger & ~(UART.IRQ_RX | UART.IRQ_RXIDLE | UART.IRQ_BREAK):
            raise ValueError("trigger not supported")
        self._irq = (handler, trigger)
        return self

    def __repr__(self):
        return "UART(%d, baudrate=%d, bits=%d, parity=%s, stop=%d, tx=%d, rx=%d, rxbuf=%d, " \
               "timeout=%d)" % (self.id, self.baudrate, self.bits, self.parity, self.stop,
                                self.tx, self.rx, self.rxbuf, self.timeout)


# -- WDT (extmod/machine_wdt.c + ports/esp32/machine_wdt.c) ------------------------------------
_wdt = None


class WDT:
    """The IDF task watchdog: id 0 only; a second WDT() reconfigures the same one. The docs say
    1 s minimum, the code only rejects timeout <= 0 (micropython-esp32.md §1). It cannot be
    stopped. Host-only: `timeout`, `last_feed` (stand-in ticks), `feeds`, expired()."""

    def __init__(self, id=0, timeout=5000):
        global _wdt
        if id != 0:
            raise ValueError()
        if timeout <= 0:
            raise ValueError("WDT timeout too short")
        self.timeout = int(timeout)
        self.last_feed = _sim_ticks_ms()
        self.feeds = 0
        _wdt = self

    def feed(self):
        if _wdt is not None and _wdt is not self:  # the singleton: feeding any handle counts
            _wdt.feed()
            return
        self.last_feed = _sim_ticks_ms()
        self.feeds += 1

    def expired(self, now_ms=None):
        """Host-only: would the board have been reset by `now_ms` (stand-in ticks)?"""
        now = _sim_ticks_ms() if now_ms is None else now_ms & _TICKS_MASK
        return _sim_ticks_diff(now, self.last_feed) > self.timeout


def _sim_wdt():
    """Host-only: the running watchdog, or None."""
    return _wdt


def _sim_check_wdt(now_ms=None):
    """Host-only: raise ResetCalled(WDT_RESET) if the watchdog has run out, as the board
    would reset. A harness calls it from its loop."""
    if _wdt is not None and _wdt.expired(now_ms):
        _restart(WDT_RESET, "watchdog")


# -- RTC (machine_rtc.c) -----------------------------------------------------------------------
_RTC_MEM_MAX = 2048  # MICROPY_HW_RTC_USER_MEM_MAX
_rtc_mem = bytearray()
_rtc_base_s = 0  # seconds since 2000-01-01 (the ESP32 epoch) at _rtc_base_ms
_rtc_base_us = 0
_rtc_base_ms = _sim_now_ms()


def _days_from_civil(y, m, d):
    """Days since 2000-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    if m <= 2:
        y -= 1
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 730425


def _civil_from_days(z):
    z += 730425
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (1 if m <= 2 else 0), m, d


def _rtc_set_seconds(s, us):
    global _rtc_base_s, _rtc_base_us, _rtc_base_ms
    _rtc_base_s, _rtc_base_us, _rtc_base_ms = s, us, _sim_now_ms()


def _sim_rtc_seconds():
    """Host-only: the RTC as seconds since 2000-01-01 (what time.time() gives on the ESP32)."""
    return _rtc_base_s + (_rtc_base_us // 1000 + _sim_now_ms() - _rtc_base_ms) // 1000


class RTC:
    def __init__(self):
        pass

    def datetime(self, *args):
        if len(args) > 1:
            raise TypeError("function takes at most 2 positional arguments")
        if args:
            t = args[0]
            if len(t) != 8:
                raise ValueError("requested length 8 but object has length %d" % len(t))
            days = _days_from_civil(t[0], t[1], t[2])
            _rtc_set_seconds(days * 86400 + t[4] * 3600 + t[5] * 60 + t[6], t[7])
            return None
        total_ms = _rtc_base_us // 1000 + _sim_now_ms() - _rtc_base_ms
        s = _rtc_base_s + total_ms // 1000
        us = (_rtc_base_us % 1000) + (total_ms % 1000) * 1000
        days, rem = s // 86400, s % 86400
        y, m, d = _civil_from_days(days)
        wday = (days + 5) % 7  # 2000-01-01 was a Saturday; Monday is 0
        return (y, m, d, wday, rem // 3600, rem // 60 % 60, rem % 60, us)

    def init(self, datetime):
        self.datetime(datetime)

    def memory(self, *args):
        if len(args) > 1:
            raise TypeError("function takes at most 2 positional arguments")
        if not args:
            return bytes(_rtc_mem)
        data = bytes(args[0])
        if len(data) > _RTC_MEM_MAX:
            raise ValueError("buffer too long")
        _rtc_mem[:] = data
        return None


# -- Timer (machine_timer.c) -------------------------------------------------------------------
_timers = {}


class Timer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id, *args, **kw):
        if not isinstance(id, int) or id < -1 or id > 3:
            raise ValueError("invalid Timer number, max 4")
        self.id = id
        self.mode = Timer.PERIODIC
        self.period = None
        self.freq = None
        self.callback = None
        self._armed = False
        self.fired = 0
        if args:
            raise TypeError("function takes 1 positional arguments but %d were given"
                            % (1 + len(args)))
        _timers[id] = self
        if kw:
            self.init(**kw)

    def init(self, *, mode=1, callback=None, period=_UNSET, tick_hz=1000, freq=_UNSET,
             hard=False):
        if hard:
            raise ValueError("hard Timers are not implemented")
        if mode not in (Timer.ONE_SHOT, Timer.PERIODIC):
            raise ValueError("invalid mode")
        self.mode = mode
        self.callback = callback
        if freq is not _UNSET:
            self.freq = freq
            self.period = 1000 / freq
        elif period is not _UNSET:
            self.period = period * 1000 / tick_hz
            self.freq = None
        self._armed = True
        self._start = _sim_now_ms()

    def deinit(self):
        self._armed = False

    def value(self):
        if not self._armed:
            raise ValueError("timer not set")
        return int((_sim_now_ms() - self._start) % max(1, int(self.period or 1)))

    def _sim_fire(self):
        """Host-only: the alarm goes off (the port schedules the callback as soft IRQ)."""
        if not self._armed:
            return False
        self.fired += 1
        if self.mode == Timer.ONE_SHOT:
            self._armed = False
        if self.callback is not None:
            self.callback(self)
        return True
