"""What the three UART wM-Bus modules (iM871A, AMB8465, RC1180) have in common.

A module is a complete receiver: it decodes the link layer, checks the block CRCs and hands
the host a message over the UART (radio.md §4). The driver's work is therefore framing, not
radio: reassemble messages across partial reads, check the UART-level checksum where the
protocol has one, resynchronise on garbage, and notice when the module stops talking.

UartModule holds that shared part; a subclass says how its messages look:

    _scan(buf, p, n) -> (status, length)   NEED: wait for more bytes;
                                           SKIP: `length` bytes are garbage (resynchronise);
                                           MSG: a message of `length` bytes starts at p
    _message(buf, p, length, now) -> int   handle it (reply or telegram), 1 if a frame was queued
    _configure() -> bool                   detect + configure (blocking, bounded)
    _ping()                                send a cheap request whose answer proves the UART works

Buffers are preallocated: poll() reads with uart.readinto() into a fixed bytearray and parses
in place, so receiving a telegram allocates nothing but the small memoryview slices.

Watchdog (poll()): a module is alive when it sends valid messages. After `ping_ms` without
one the driver sends a ping; no valid message within `reply_ms` after it, or no received
telegram at all for `silence_ms`, and the module is reset (reset pin pulse, or the module's
software reset when there is no pin) and configured again (counters["resets"]). The silence
default is 20 minutes: longer than the slowest common meter interval (T1 OMS meters send every
15 minutes, radio.md §6.2), so a gateway that hears one such meter does not reset its radio
every cycle, and short enough that a receiver whose radio part hung while its UART still
answers pings costs at most one or two readings. A failed recovery is retried with a growing
pause (30 s doubling to 10 minutes) so that a missing module does not stall the main loop.
A recovery is the one place poll() waits: 0.1-0.4 s for a module that comes back, 1.4 s at
most for one that is gone (simulated time, with the default reply_ms of 200 ms).
"""

from wmbus.compat import const, ticks_ms as _ticks_ms, ticks_add, ticks_diff, sleep_ms as _sleep_ms

NEED = const(0)
SKIP = const(1)
MSG = const(2)

BUF_SIZE = const(512)  # the largest message (iM871A: 4 + 255 + 4 + 1 + 2 = 266 bytes) + a read
READ_CHUNK = const(128)
POLL_CHUNKS = const(16)  # at most 2 KB per poll() (0.2 s of 115200 baud): poll() stays short
# A module sends each message back to back, so a pause inside one is a fault (bytes lost, or
# a false header in garbage). How long a pause: 25 byte times, at least 10 ms, because the
# ESP32 UART driver hands bytes over in bursts (its RX timeout is ~10 byte times): 13 ms at
# 19200 baud, 26 ms at 9600. The same quiet time ends the resynchronisation after an overflow.
GAP_BYTES = const(25)
GAP_MIN_MS = const(10)
SILENCE_MS = 20 * 60 * 1000
PING_MS = 60 * 1000
REPLY_MS = 200  # modules answer in a few ms (wmbusmeters waits 100 ms for the AMB8465)
RETRY_MIN_MS = 30 * 1000
RETRY_MAX_MS = 10 * 60 * 1000
RESET_PULSE_MS = const(10)


def _x25_table():
    # CRC-16/X-25 (radio.md §4.1): reflected polynomial 0x8408, one entry per byte value,
    # stored as 512 little-endian bytes (a tuple of ints would cost 2 KB on a 64-bit port).
    t = bytearray(512)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x8408 if c & 1 else c >> 1
        t[2 * i] = c & 0xFF
        t[2 * i + 1] = c >> 8
    return bytes(t)


X25_TABLE = _x25_table()


def crc_x25(data, start=0, end=None):
    """CRC-16/X-25 (init 0xFFFF, reflected, complemented) of data[start:end]."""
    if end is None:
        end = len(data)
    t = X25_TABLE
    c = 0xFFFF
    for i in range(start, end):
        j = ((c ^ data[i]) & 0xFF) << 1
        c = (c >> 8) ^ (t[j] | (t[j + 1] << 8))
    return c ^ 0xFFFF


def xor_sum(data, start=0, end=None):
    """The AMB8465 checksum: XOR of data[start:end] (radio.md §4.2)."""
    if end is None:
        end = len(data)
    c = 0
    for i in range(start, end):
        c ^= data[i]
    return c


def pin_set(pin, v):
    """Drive a machine.Pin-like object (value()) or a callable pin(v)."""
    if hasattr(pin, "value"):
        pin.value(v)
    else:
        pin(v)


def link_modes(mode):
    """'T1+C1' / 'C1,T1' / 'T1' / 'C1' -> (has_t1, has_c1). ValueError on anything else."""
    s = mode.upper().replace(",", "+").replace(" ", "")
    parts = s.split("+")
    t1 = "T1" in parts
    c1 = "C1" in parts
    if not (t1 or c1) or len(parts) != int(t1) + int(c1):
        raise ValueError("radio.mode: %r is not T1, C1 or T1+C1" % (mode,))
    return t1, c1


class UartModule:
    NAME = "uart"
    BAUDRATE = 9600
    # Without a checksum on the UART (RC1180) a message whose middle was lost in an overflow
    # would pass as a frame: after one, bytes are dropped until the line is quiet.
    RESYNC_ON_OVERFLOW = False
    BOOT_MS = 100  # after the reset pulse, before the module takes commands

    def __init__(self, queue, uart=None, reset=None, mode="T1+C1", ticks_ms=None,
                 sleep_ms=None, silence_ms=SILENCE_MS, ping_ms=PING_MS, reply_ms=REPLY_MS,
                 rxbuf=256):
        if uart is None:
            raise ValueError("%s: no uart given" % self.NAME)
        self.queue = queue
        self.uart = uart
        self.reset_pin = reset
        self.mode = mode
        self.has_t1, self.has_c1 = link_modes(mode)
        self._ticks = ticks_ms or _ticks_ms
        self._sleep = sleep_ms or _sleep_ms
        self.silence_ms = silence_ms
        self.ping_ms = ping_ms
        self.reply_ms = reply_ms
        self.rxbuf = rxbuf  # the rxbuf the UART was created with (machine.UART default 256)
        self.counters = queue.counters
        for k in ("resets", "garbage", "crc", "overflow"):
            if k not in self.counters:
                self.counters[k] = 0
        self.error = None
        self.ready = False
        self.info = {"radio": self.NAME, "firmware": None, "mode": mode}
        self._baud(self.BAUDRATE)
        self._buf = bytearray(BUF_SIZE)
        self._mv = memoryview(self._buf)
        self._frame = bytearray(256)  # L + up to 255 bytes: what goes into the queue
        self._p = 0  # first unparsed byte
        self._n = 0  # bytes in _buf
        now = self._ticks()
        self._last_byte = now
        self._last_msg = now  # any valid message from the module
        self._last_frame = now  # last telegram
        self._ping_at = None  # when the outstanding ping was sent
        self._full = False
        self._resync = False  # after an overflow: drop bytes until the line is quiet
        self._retry_at = None
        self._retry_ms = RETRY_MIN_MS
        # Request/response: _message() stores the reply code and payload here.
        self._want = -1
        self._got = False
        self._reply = bytearray(264)
        self._reply_n = 0

    # ---- public interface -------------------------------------------------------------------

    def start(self):
        """Detect and configure the module. True when it is receiving; else self.error says why."""
        self.error = None
        self._p = self._n = 0
        ok = self._configure()
        now = self._ticks()
        self._last_msg = self._last_frame = self._last_byte = now
        self._ping_at = None
        self.ready = ok
        if ok:
            self._retry_ms = RETRY_MIN_MS
            self._retry_at = None
        else:
            # poll() tries again later, with a growing pause (a missing module must not
            # stall the main loop with a blocking start() on every call).
            self._retry_at = ticks_add(now, self._retry_ms)
            self._retry_ms = min(self._retry_ms * 2, RETRY_MAX_MS)
        return ok

    def poll(self):
        """Move what the UART holds into the queue; run the watchdog. Returns frames queued."""
        queued = 0
        uart = self.uart
        now = self._ticks()
        for _ in range(POLL_CHUNKS):
            if not self.queue.room():
                # Backpressure: the gateway is behind. Leave the bytes in the UART buffer
                # (8 KB on the boards) rather than read them into a queue that drops them.
                break
            k = uart.any()
            if not k:
                if self._resync and ticks_diff(now, self._last_byte) >= self._gap_ms:
                    self._resync = False
                break
            full = k >= self.rxbuf
            if full and not self._full:
                # The UART buffer is full: what arrives now is lost (machine.UART has no
                # overflow flag; a full buffer is the sign).
                self.counters["overflow"] += 1
            self._full = full
            if self._resync:
                self._discard(k, now)
                continue
            if full and self.RESYNC_ON_OVERFLOW:
                while k > 0:
                    got = self._read(min(k, READ_CHUNK), now)
                    queued += got
                    k -= READ_CHUNK
                if self._n > self._p:  # its tail was lost
                    self.counters["garbage"] += 1
                self._p = self._n = 0
                self._resync = True
                continue
            queued += self._read(k, now)
        if self._n > self._p and ticks_diff(now, self._last_byte) > self._gap_ms:
            # A message that stopped half way: bytes lost on the line, a module reset, or a
            # "header" in garbage whose length ran over the messages after it. Give up its
            # first byte and look at the rest again: complete messages behind it survive.
            self.counters["garbage"] += 1
            while self._n > self._p:
                self._p += 1
                queued += self._parse(now)
            self._p = self._n = 0
        self._watchdog(now)
        return queued

    def _baud(self, baud):
        self.info["baudrate"] = baud
        self._gap_ms = max(GAP_MIN_MS, GAP_BYTES * 10000 // baud)

    # ---- reading and parsing ----------------------------------------------------------------

    def _read(self, k, now):
        if self._p == self._n:
            self._p = self._n = 0
        room = BUF_SIZE - self._n
        if room < READ_CHUNK and self._p:
            # Compact: move the partial message to the front (rare: only when it straddles).
            rest = self._n - self._p
            if rest <= self._p:
                self._buf[0:rest] = self._mv[self._p:self._n]
            else:  # overlapping: copy through a temporary (rarer still)
                self._buf[0:rest] = bytes(self._mv[self._p:self._n])
            self._p = 0
            self._n = rest
            room = BUF_SIZE - rest
        if room == 0:
            # Full of one partial "message": it cannot be one, drop it.
            self.counters["garbage"] += 1
            self._p = self._n = 0
            room = BUF_SIZE
        if k > room:
            k = room
        if k > READ_CHUNK:
            k = READ_CHUNK
        got = self.uart.readinto(self._mv[self._n:self._n + k], k)
        if not got:
            return 0
        self._n += got
        self._last_byte = now
        return self._parse(now)

    def _parse(self, now):
        queued = 0
        buf = self._buf
        while self._p < self._n:
            status, length = self._scan(buf, self._p, self._n)
            if status == NEED:
                break
            if status == SKIP:
                self.counters["garbage"] += 1
                self._p += length
                continue
            p = self._p
            self._p += length
            self._last_msg = now
            self._ping_at = None
            queued += self._message(buf, p, length, now)
        if self._p == self._n:
            self._p = self._n = 0
        return queued

    def _discard(self, k, now):
        while k > 0:
            got = self.uart.readinto(self._mv[0:READ_CHUNK], min(k, READ_CHUNK))
            if not got:
                break
            k -= got
        self._last_byte = now

    def _put(self, body, start, n, mode, frame_format, rssi, now):
        """Queue L + body[start:start+n]: L normalised to count the bytes after it."""
        if n < 9 or n > 255:  # C, M(2), A(6) at least (radio.md §3.4: L >= 9)
            self.counters["garbage"] += 1
            return 0
        f = self._frame
        f[0] = n
        f[1:1 + n] = body[start:start + n]  # body: a memoryview, so the slice copies nothing
        self._last_frame = now
        return 1 if self.queue.put(f, n + 1, mode, frame_format, rssi, now) else 0

    # ---- requests (start() and recovery only: these wait) -----------------------------------

    def _drain(self):
        """Read and parse whatever arrived (telegrams received meanwhile are queued)."""
        now = self._ticks()
        while True:
            k = self.uart.any()
            if not k:
                break
            self._read(k, now)

    def _request(self, msg, want, timeout_ms):
        """Write msg and wait up to timeout_ms for the reply `want` (subclass-defined code).
        True when it came; the payload is in self._reply[:self._reply_n]."""
        self._drain()
        self._want = want
        self._got = False
        self.uart.write(msg)
        t0 = self._ticks()
        while True:
            self._sleep(2)
            self._drain()
            if self._got:
                self._want = -1
                return True
            if ticks_diff(self._ticks(), t0) >= timeout_ms:
                self._want = -1
                return False

    def _wait_ms(self, ms):
        t0 = self._ticks()
        while ticks_diff(self._ticks(), t0) < ms:
            self._sleep(5)
            self._drain()

    def _hw_reset(self):
        """Pulse the (active-low) reset pin; False when there is none."""
        if self.reset_pin is None:
            return False
        pin_set(self.reset_pin, 0)
        self._sleep(RESET_PULSE_MS)
        pin_set(self.reset_pin, 1)
        self._sleep(self.BOOT_MS)
        self._p = self._n = 0
        # What the module sent before it restarted is of no use now.
        while self.uart.any():
            self.uart.readinto(self._mv[0:READ_CHUNK], READ_CHUNK)
        return True

    # ---- watchdog -----------------------------------------------------------------------------

    def _watchdog(self, now):
        if not self.ready:
            if self._retry_at is not None and ticks_diff(now, self._retry_at) >= 0:
                self._recover()
            return
        if self._ping_at is not None:
            if ticks_diff(now, self._ping_at) >= self.reply_ms:
                self._recover()
            return
        if ticks_diff(now, self._last_frame) >= self.silence_ms:
            self._recover()
            return
        if ticks_diff(now, self._last_msg) >= self.ping_ms:
            self._ping_at = now
            self._ping()

    def _recover(self):
        self.counters["resets"] += 1
        self.ready = False
        if not self._hw_reset():
            self._soft_reset()
        self.start()

    # ---- subclass hooks -------------------------------------------------------------------------

    def _soft_reset(self):
        pass

    def _ping(self):
        raise NotImplementedError

    def _configure(self):
        raise NotImplementedError

    def _scan(self, buf, p, n):
        raise NotImplementedError

    def _message(self, buf, p, length, now):
        raise NotImplementedError


def _c_fields():
    # C-fields of what meters send (EN 13757-4 §12.5): CNF_IR 06, RSP_UD 08/18/28/38,
    # SND_NR 44, SND_IR 46, ACC_NR 47, ACC_DMD 48. A receive-only gateway hears nothing else
    # it could use, and the narrower the set, the rarer a false start in garbage.
    t = bytearray(256)
    for c in (0x06, 0x08, 0x18, 0x28, 0x38, 0x44, 0x46, 0x47, 0x48):
        t[c] = 1
    return bytes(t)


C_FIELD_OK = _c_fields()


def plausible_header(buf, p):
    """buf[p] = C, buf[p+1:p+3] = M, buf[p+9] = CI: a meter's C-field, a manufacturer of three
    letters A-Z (bit 15 clear) and a CI of the meter-to-gateway range 0x66-0xB7 (responses,
    ELL, AFL, manufacturer-specific; EN 13757-7 Table 2). For modules whose output has no
    checksum (RC1180): about 1 in 2500 random positions passes."""
    if not C_FIELD_OK[buf[p]] or not 0x66 <= buf[p + 9] <= 0xB7:
        return False
    m = buf[p + 1] | (buf[p + 2] << 8)
    if m & 0x8000:
        return False
    a = m >> 10
    b = (m >> 5) & 31
    c = m & 31
    return 0 < a <= 26 and 0 < b <= 26 and 0 < c <= 26
