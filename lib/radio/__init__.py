"""The receive interface every radio driver shares: a bounded, preallocated frame queue.

A driver (cc1101, im871a, amb8465, rc1180) owns one FrameQueue. Its poll() moves what the
hardware has received into the queue: frames whose link-layer CRCs checked, with the CRCs
removed (the frame starts at L, as Decoder.decode() takes it). The firmware's main loop takes
them out with get() when it has time; the queue absorbs the gap between the two.

    q = FrameQueue(64)                             # 64 frames, 4 KB of ring
    q.put(buf, n, MODE_T1, FORMAT_A, -71, ticks)   # driver side: copies, never allocates
    f = q.get()     # (frame bytes, mode, frame_format, rssi_dbm, rx_ticks_ms) or None

Counters (q.counters, a dict of ints, published in the gateway state):
    frames      frames put into the queue
    crc         frames dropped because a link-layer CRC failed (or the 3-of-6 coding)
    overflow    frames lost because the radio overflowed (FIFO, UART buffer) or the queue was full
    resets      radio re-initialisations (watchdog, module not answering)
    garbage     bytes or messages from the radio that made no sense and were skipped
Drivers may add their own counters to the same dict.
"""

MODE_T1 = 0
MODE_C1 = 1
MODE_S1 = 2
MODE_NAMES = ("T1", "C1", "S1")
FORMAT_A = 0
FORMAT_B = 1
FORMAT_NAMES = ("A", "B")
MAX_FRAME = 256  # L (one byte) plus up to 255 bytes: a frame without its CRCs


class FrameQueue:
    """Frames back to back in one preallocated byte ring, up to `slots` of them. put() copies
    and never allocates, so a driver may call it from a scheduled (soft) interrupt callback.
    A frame that does not fit (ring or slots full) is dropped and counted in
    counters["overflow"] and counters["queue_full"].

    Sized in bytes, not in slots of the largest frame: 4 KB hold 64 typical 50-byte telegrams
    where 16 slots of 256 bytes would hold 16 (the UART boards' burst budget, make bench)."""

    def __init__(self, slots=64, ring_bytes=None):
        self.slots = slots
        self.size = ring_bytes or max(2 * MAX_FRAME, 64 * slots)
        self._ring = bytearray(self.size)
        self._mv = memoryview(self._ring)
        self._off = [0] * slots
        self._len = [0] * slots
        self._mode = bytearray(slots)
        self._fmt = bytearray(slots)
        self._rssi = [0] * slots
        self._time = [0] * slots
        self._head = 0  # next entry to read
        self._count = 0
        self._w = 0  # where the next frame goes in the ring
        self.high_water = 0
        self.counters = {"frames": 0, "crc": 0, "overflow": 0, "queue_full": 0,
                         "resets": 0, "garbage": 0}

    def _start(self, n):
        """Ring offset where an n-byte frame can go, or -1. Frames never wrap: one that does
        not fit before the end starts at 0 (the tail is left unused until then)."""
        if not self._count:
            self._w = 0
            return 0 if n <= self.size else -1
        r = self._off[self._head]  # oldest frame still in the ring
        w = self._w
        if w > r:  # free: [w, size) and [0, r)
            if w + n <= self.size:
                return w
            return 0 if n <= r else -1
        return w if w + n <= r else -1  # free: [w, r)

    def room(self):
        """True when a frame of any size still fits: a driver reads its UART only then, so
        that bytes wait in the UART buffer instead of being dropped here."""
        return self._count < self.slots and self._start(MAX_FRAME) >= 0

    def put(self, data, n, mode, frame_format, rssi_dbm, rx_ticks):
        """Queue data[:n] (a bytes, bytearray or memoryview). False when it does not fit."""
        c = self.counters
        if n < 1 or n > MAX_FRAME:
            c["garbage"] += 1
            return False
        p = self._start(n) if self._count < self.slots else -1
        if p < 0:
            c["overflow"] += 1
            c["queue_full"] += 1
            return False
        self._ring[p:p + n] = data[0:n]
        self._w = p + n
        i = self._head + self._count
        if i >= self.slots:
            i -= self.slots
        self._off[i] = p
        self._len[i] = n
        self._mode[i] = mode
        self._fmt[i] = frame_format
        self._rssi[i] = rssi_dbm
        self._time[i] = rx_ticks
        self._count += 1
        if self._count > self.high_water:
            self.high_water = self._count
        c["frames"] += 1
        return True

    def get(self):
        """The oldest frame as (bytes, mode, frame_format, rssi_dbm, rx_ticks), or None."""
        if not self._count:
            return None
        i = self._head
        p = self._off[i]
        item = (bytes(self._mv[p:p + self._len[i]]), self._mode[i], self._fmt[i],
                self._rssi[i], self._time[i])
        self._head = i + 1 if i + 1 < self.slots else 0
        self._count -= 1
        return item

    def __len__(self):
        return self._count

    def clear(self):
        self._head = 0
        self._count = 0
        self._w = 0


def open_radio(kind, queue, **hw):
    """The driver for `kind` ("cc1101", "im871a", "amb8465", "rc1180"), imported only when
    asked for: a board carries one radio and the others' code stays out of the heap. `hw`
    holds the bus objects the driver takes (spi/cs/gdo0/gdo2, or uart/reset pin) and options."""
    if kind == "cc1101":
        from radio.cc1101 import CC1101 as cls
    elif kind == "im871a":
        from radio.im871a import IM871A as cls
    elif kind == "amb8465":
        from radio.amb8465 import AMB8465 as cls
    elif kind == "rc1180":
        from radio.rc1180 import RC1180 as cls
    else:
        raise ValueError("radio.kind: unknown radio %r" % (kind,))
    return cls(queue, **hw)
