"""The three UART wM-Bus modules, byte-exact to their protocols, in simulated time.

    clock = Clock()
    sim = SimIM871A(clock, air=transmissions)      # or SimAMB8465 / SimRC1180
    drv = IM871A(q, uart=sim, reset=sim.reset, ticks_ms=clock.ticks_ms, sleep_ms=clock.sleep_ms)

The shared model is here; each module's protocol is in sim_im871a.py, sim_amb8465.py and
sim_rc1180.py, imported on first use of its name from this module.

Each simulator is the host's view of the module: an object with machine.UART's methods
(any, read, readinto, write, init) and a reset pin (`sim.reset`, active low, value()/call).
Nothing runs by itself: every call from the driver first brings the module up to the clock's
present (`_sync`), so a driver that sleeps with clock.sleep_ms makes simulated time pass and
bytes arrive one every 10 bits at the current baud rate. What arrives while the host's receive
buffer (machine.UART rxbuf, 256 bytes by default) is full is lost (`sim.lost_bytes`), as on
the ESP32 when the firmware reads too late.

Reception: `air` is a list (or `feed()`) of simradio.onair.Transmission. The module
demodulates tx.air itself (3-of-6 for T1, the 54 CD / 54 3D header for C1 frame A / B),
checks and removes the DLL CRCs and, like all three real modules (radio.md §4: they output
only frames whose CRCs passed), silently drops a frame that fails (`sim.dropped_crc`). A
single-channel receiver: a transmission that starts while it is receiving another is missed
(`sim.missed`), as is one in a link mode it does not listen to. `sim.delivered` lists the
frames (CRC-free, L normalised) it put on the UART: the ground truth for the tests.

Failure modes: `hang()` (no UART, no radio until a reset pulse), `deafen()` (answers the UART,
hears nothing until reset or reconfigured), `unplug()` (gone for good), `garbage(data)` (bytes
on the line), `corrupt_next(n)` (the next n indications are damaged on the UART after the
module computed its checksum).

Assumptions where the documents are silent (stated, not measured): the module answers a
request 0.5 ms after its last byte and outputs a telegram 1 ms after the end of the frame on
air; at mismatched baud rates each byte arrives inverted (a stand-in for framing errors); a
request left incomplete for 20 ms is abandoned by the module (a UART byte timeout).
"""

import gc

# Collect before each load: the garbage of the previous imports is freed first, so the new
# module's code fills the holes instead of leaving them between live objects. Without this
# the MicroPython test processes (128 KB heap) end up with ~30 KB free in pieces under 2 KB.
gc.collect()
from wmbus import build, phy  # noqa: E402

gc.collect()
from simradio.onair import Transmission  # noqa: E402

PERIOD = 1 << 30  # the ESP32's ticks_ms period
REPLY_US = 500
RX_DELAY_US = 1000
CMD_TIMEOUT_US = 20000


class Clock:
    """Simulated time in microseconds, with MicroPython's ticks_ms/sleep_ms view of it."""

    def __init__(self, start_ms=0):
        self.us = start_ms * 1000

    def ticks_ms(self):
        return (self.us // 1000) & (PERIOD - 1)

    def sleep_ms(self, ms):
        self.us += int(ms * 1000)

    advance_ms = sleep_ms

    def advance_us(self, us):
        self.us += us


class ResetPin:
    """The module's active-low reset input as a machine.Pin: value(0) holds it in reset."""

    def __init__(self, sim):
        self.sim = sim
        self.level = 1

    def value(self, v=None):
        if v is None:
            return self.level
        self.sim._pin(1 if v else 0)
        return None

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


def crc_x25(data):
    """CRC-16/X-25 bit by bit (init 0xFFFF, reflected 0x8408, complemented): written apart
    from the driver's table so that the two check each other."""
    c = 0xFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ 0x8408 if c & 1 else c >> 1
    return c ^ 0xFFFF


def xor_cs(data):
    c = 0
    for b in data:
        c ^= b
    return c


def demodulate(tx):
    """What the module's link layer makes of tx.air: the frame without CRCs (L counting the
    bytes after it), or None when the coding or a CRC fails."""
    air = bytes(tx.air)
    if tx.mode == "T1":
        head = phy.decode_3of6(air, 2)
        if head is None:
            return None
        n = phy.size_format_a(head[0])
        raw = phy.decode_3of6(air, n)
        if raw is None:
            return None
        status, frame = phy.strip_crcs_a(bytes(raw))
    elif air[0:2] == b"\x54\xcd":
        n = phy.size_format_a(air[2])
        status, frame = phy.strip_crcs_a(air[2:2 + n])
    elif air[0:2] == b"\x54\x3d":
        status, frame = phy.strip_crcs_b(air[2:2 + air[2] + 1])
    else:
        return None
    if status != phy.OK or frame is None:
        return None
    return bytes(frame)


class SimModule:
    NAME = "module"
    DEFAULT_BAUD = 9600
    BOOT_MS = 50

    def __init__(self, clock=None, air=(), rxbuf=256, host_baud=None):
        self.clock = clock or Clock()
        self.rxbuf = rxbuf
        self.reset = ResetPin(self)
        self.baud = self.DEFAULT_BAUD
        self.host_baud = host_baud or self.DEFAULT_BAUD
        # The host UART's receive buffer: a ring of `rxbuf` bytes, allocated once (like the
        # ESP32 driver's, and so that a long simulation does not fragment a small heap).
        self._rxb = bytearray(rxbuf)
        self._rxm = memoryview(self._rxb)
        self._rh = 0  # oldest byte
        self._rn = 0  # bytes held
        self._wire = []  # [start_us, data, sent, ns_per_byte, baud] on the line to the host
        self._line_free = 0
        self._sched = []  # [due_us, bytes or callable], by due time
        self._air = []
        self._busy_until = 0
        self.state = "ok"
        self._boot_until = 0
        self._corrupt = 0
        self._in = bytearray()  # bytes from the host not yet parsed by the module
        self._in_us = 0
        self.written = bytearray()  # everything the host wrote (for the tests)
        self.lost_bytes = 0
        self.delivered = []
        self.dropped_crc = 0
        self.missed = 0
        self.resets = 0
        self.feed(air)

    # ---- the test's controls --------------------------------------------------------------------

    def feed(self, txs):
        self._air.extend(txs)
        self._air.sort(key=lambda t: t.start_us)

    def hang(self):
        self._sync()
        self.state = "hung"
        self._sched = []

    def deafen(self):
        self._sync()
        if self.state == "ok":
            self.state = "deaf"

    def unplug(self):
        self._sync()
        self.state = "absent"
        self._sched = []

    def garbage(self, data):
        self._sync()
        self._schedule(self.clock.us, bytes(data))

    def corrupt_next(self, n=1):
        self._corrupt += n

    def advance_ms(self, ms):
        self.clock.advance_ms(ms)
        self._sync()

    # ---- machine.UART ---------------------------------------------------------------------------

    def any(self):
        self._sync()
        return self._rn

    def read(self, n=None):
        self._sync()
        if not self._rn:
            return None
        out = bytearray(self._rn if n is None or n > self._rn else n)
        self._take(out, len(out))
        return bytes(out)

    def readinto(self, buf, n=None):
        self._sync()
        if n is None or n > len(buf):
            n = len(buf)
        if n > self._rn:
            n = self._rn
        if not n:
            return None
        self._take(buf, n)
        return n

    def _take(self, buf, n):
        size = len(self._rxb)
        a = min(n, size - self._rh)  # up to the end of the ring, then from its start
        buf[0:a] = self._rxm[self._rh:self._rh + a]
        if n > a:
            buf[a:n] = self._rxm[0:n - a]
        self._rh = (self._rh + n) % size
        self._rn -= n

    def write(self, data):
        self._sync()
        data = bytes(data)
        self.written += data
        if not self._listening_uart():
            return len(data)
        if self.host_baud != self.baud:
            data = bytes(b ^ 0xFF for b in data)
        done = self.clock.us + len(data) * 10000000 // self.host_baud
        if self._in and self.clock.us - self._in_us > CMD_TIMEOUT_US:
            self._in = bytearray()  # a request left incomplete that long is abandoned
        self._in_us = done
        self._in += data
        self._parse_host(done + REPLY_US)
        return len(data)

    def init(self, baudrate=None, **kw):
        self._sync()
        if baudrate:
            self.host_baud = baudrate

    def deinit(self):
        pass

    def flush(self):
        pass

    # ---- time -----------------------------------------------------------------------------------

    def _listening_uart(self):
        return self.state in ("ok", "deaf") and self.clock.us >= self._boot_until

    def _schedule(self, due, item):
        i = len(self._sched)
        while i and self._sched[i - 1][0] > due:
            i -= 1
        self._sched.insert(i, [due, item])

    def _sync(self):
        now = self.clock.us
        while self._air and self._air[0].end_us <= now:
            self._hear(self._air.pop(0))
        while self._sched and self._sched[0][0] <= now:
            due, item = self._sched.pop(0)
            if callable(item):
                item(due)  # an action: it takes effect at its due time, not at this sync
            elif self.state in ("ok", "deaf"):
                self._emit(due, item)
        self._transfer(now)

    def _emit(self, due, data):
        start = due if due > self._line_free else self._line_free
        ns = 10000000000 // self.baud
        self._wire.append([start, data, 0, ns, self.baud])
        self._line_free = start + (len(data) * ns + 999) // 1000

    def _transfer(self, now):
        while self._wire:
            seg = self._wire[0]
            start, data, sent, ns, baud = seg
            if now <= start:
                return
            done = (now - start) * 1000 // ns
            if done > len(data):
                done = len(data)
            rx = self._rxb
            size = len(rx)
            for i in range(sent, done):
                if self._rn >= size:
                    self.lost_bytes += done - i
                    break
                rx[(self._rh + self._rn) % size] = (data[i] if baud == self.host_baud
                                                    else data[i] ^ 0xFF)
                self._rn += 1
            seg[2] = done
            if done < len(data):
                return
            self._wire.pop(0)

    def _pin(self, v):
        self._sync()
        if v == self.reset.level:
            return
        self.reset.level = v
        if v == 0:
            self._sched = []
            self._wire = [s for s in self._wire if s[2]]  # bytes being sent are cut short
            for s in self._wire:
                s[1] = s[1][:s[2]]
            self._in = bytearray()
            if self.state != "absent":
                self.state = "reset"
        else:
            self.resets += 1
            if self.state != "absent":
                self.state = "ok"
                self._boot_until = self.clock.us + self.BOOT_MS * 1000
                self._boot()

    def _reboot_now(self, at):
        """A software reset at time `at`: the module restarts as after a reset pulse."""
        if self.state in ("ok", "deaf"):
            self.state = "ok"
            self._in = bytearray()
            self._boot_until = at + self.BOOT_MS * 1000
            self._boot()

    # ---- the radio ------------------------------------------------------------------------------

    def _hear(self, tx):
        if self.state != "ok" or tx.start_us < self._boot_until or not self._hears(tx.mode):
            self.missed += 1
            return
        if tx.start_us < self._busy_until:
            self.missed += 1
            return
        self._busy_until = tx.end_us
        frame = demodulate(tx)
        if frame is None:
            self.dropped_crc += 1
            return
        msg = bytearray(self._indication(frame, int(round(tx.rssi_dbm)), tx.end_us))
        self.delivered.append(frame)
        if self._corrupt:
            self._corrupt -= 1
            msg = self._damage(msg)
        self._schedule(tx.end_us + RX_DELAY_US, bytes(msg))

    def _damage(self, msg):
        msg[len(msg) // 2] ^= 0x10  # after the checksum was computed: the check fails
        return msg

    # ---- subclass hooks -------------------------------------------------------------------------

    def _boot(self):
        pass

    def _hears(self, mode):
        return False

    def _indication(self, frame, rssi_dbm, t_us):
        raise NotImplementedError

    def _parse_host(self, due):
        raise NotImplementedError


def pump(drv, clock, ms, step=5):
    """Run a driver for `ms` of simulated time, polling every `step` ms: the frames queued."""
    n = 0
    for _ in range(ms // step):
        clock.advance_ms(step)
        n += drv.poll()
    return n


def drain(q):
    """Everything in a FrameQueue, oldest first, as get() gives it."""
    out = []
    while len(q):
        out.append(q.get())
    return out


def transmissions(start_us, specs, gap_us=100000, rssi_dbm=-60):
    """Test traffic: one Transmission per spec (mode, frame_format[, extra]) from its own
    meter (id 10000000 + i, KAM, an unencrypted volume record), `gap_us` apart, RSSI
    rssi_dbm - i. `extra` appends that many bytes of manufacturer-specific data (DIF 0F) to
    lengthen the telegram (L > 127 from extra = 111 on) without adding records to decode."""
    out = []
    for i, spec in enumerate(specs):
        apl = build.records(("0413", 1000 + i))
        if len(spec) > 2:
            apl += b"\x0f" + bytes((i + k) & 0xFF for k in range(spec[2]))
        frame = build.telegram(apl, meter_id="%08d" % (10000000 + i))
        out.append(Transmission(start_us + i * gap_us, frame, spec[0], spec[1],
                                rssi_dbm=rssi_dbm - i))
    return out


def __getattr__(name):
    # Each simulator lives in its own file, imported when asked for: a test process (128 KB
    # heap, as on the device) loads only the one it drives.
    gc.collect()
    if name == "SimIM871A":
        from simradio.sim_im871a import SimIM871A as cls
    elif name == "SimAMB8465":
        from simradio.sim_amb8465 import SimAMB8465 as cls
    elif name == "SimRC1180":
        from simradio.sim_rc1180 import SimRC1180 as cls
    else:
        raise AttributeError(name)
    return cls
