"""TI CC1101 receiving wM-Bus T1 and C1 (frames A and B) at once on 868.95 MHz.

Register set, variable-length strategy and errata: ../shared/docs/radio.md (Errata, §2, §3); the
chip behaviour from the CC1101 data sheet SWRS061 and errata SWRZ020.

How a frame is received (radio.md §2.4, strategy A with v5's re-arm order):
1. Armed: infinite packet length (PKTCTRL0 0x02), RX. GDO2 (IOCFG2 0x06) rises on the 16-bit sync
   word 0x543D, which both T1 (preamble tail + T sync) and C1 (first half of its 32-bit sync)
   contain; without a GDO2 pin, RXBYTES > 0 tells the same.
2. The first three bytes after sync give the mode and L: 54 CD / 54 3D + L is C1 frame A / B;
   anything else is T1, whose first three chip bytes decode (3-of-6) to L and C. They are read
   with everything else already there (but one byte): a short frame is often complete by then.
3. PKTLEN = every byte since sync (Errata 2: the 54 xx pair included, never 0), fixed length, so
   the chip stops at the frame end; frames of 256 bytes or more stay in infinite mode with
   PKTLEN = total mod 256 until fewer than 256 bytes remain (TI's "packet length > 255" method).
   The next RXBYTES count tells whether the write came before the chip had counted that far.
4. The FIFO is drained in bursts of RXBYTES - 1 while bytes still arrive (SWRZ020: never empty
   it mid-packet), RXBYTES read twice in one SPI transaction until both agree (the SPI read
   synchronisation issue).
5. RSSI and LQI come with the first FIFO read past byte 12. When the PKTLEN write came in time,
   the chip ended the packet at the frame end and is in RX again by itself (MCSM1 RXOFF_MODE =
   RX, written after the table): the driver only sets infinite length again for the next
   frame, whose bytes may already follow in the FIFO, so there is no dead time between frames
   however late the driver is. Otherwise (a late write: the chip ran past the frame end) the
   chip is re-armed (SIDLE, SFRX, SRX). Both before any decoding.
6. The CRCs of frame A or B are checked and removed, L is rewritten to count the bytes after it,
   and the frame goes into the FrameQueue with its RSSI in dBm. A T1 frame first waits (one
   slot) for its 3-of-6 decoding, done in 24-byte slices only while GDO2 shows no frame
   arriving: on an ESP32 it costs about 0.1 ms per byte, more than a FIFO deadline allows. So a
   T1 frame may be queued after a C1 frame that followed it; rx_ticks keeps the air order.

Recovery: RXBYTES bit 7 or MARCSTATE RXFIFO_OVERFLOW -> the frame is taken from the stopped FIFO
when it fits there (counters["salvaged"]: the driver was late, e.g. behind a flash erase, but
the chip kept the first 64 bytes), then SIDLE + SFRX (else counters["overflow"]); no
new byte for `stall_ms` while a frame is arriving (the 66/67-byte erratum, Errata 5) -> the same.
Watchdog: no sync for `silence_ms`, or the chip in a MARCSTATE other than RX or calibrating ->
full re-initialisation (counters["resets"]). Calibration: SCAL at start and every `recal_ms`
while waiting (default), or MCSM0 FS_AUTOCAL on each IDLE -> RX (autocal=True, 724 us more dead
time per frame).

poll() never waits for the chip: it moves what is there and returns. Buffers are allocated once.
"""

from wmbus.compat import const, ticks_diff, ticks_ms as _compat_ticks_ms
from wmbus.phy import decode_3of6, size_3of6, size_format_a
from wmbus.crc import crc16
from radio import MODE_T1, MODE_C1, FORMAT_A, FORMAT_B

RSSI_OFFSET = const(74)  # dB at 868 MHz (SWRS061 §17.3 / DN505, radio.md §2.6)

# Register set of radio.md §2.1 (TI SWRA234 T-mode values), written as one burst from 0x00.
# PKTCTRL0 0x02 = infinite length (armed state), PKTLEN 0xFF until a frame's length is known.
CONFIG = bytes((
    0x06,  # 0x00 IOCFG2   GDO2: sync word .. end of packet / overflow
    0x2E,  # 0x01 IOCFG1   hi-Z
    0x00,  # 0x02 IOCFG0   GDO0: RX FIFO at or above the FIFOTHR threshold
    0x07,  # 0x03 FIFOTHR  RX threshold 32 bytes
    0x54,  # 0x04 SYNC1
    0x3D,  # 0x05 SYNC0
    0xFF,  # 0x06 PKTLEN
    0x00,  # 0x07 PKTCTRL1 no address check, no appended status
    0x02,  # 0x08 PKTCTRL0 infinite length, no hardware CRC, no whitening
    0x00,  # 0x09 ADDR
    0x00,  # 0x0A CHANNR
    0x08,  # 0x0B FSCTRL1  IF 203 kHz
    0x00,  # 0x0C FSCTRL0
    0x21, 0x6B, 0xD0,  # 0x0D-0x0F FREQ 868.95 MHz
    0x5C,  # 0x10 MDMCFG4  RX filter 325 kHz
    0x04,  # 0x11 MDMCFG3  103 kBaud
    0x06,  # 0x12 MDMCFG2  2-FSK, 16/16 sync bits + carrier sense
    0x22,  # 0x13 MDMCFG1
    0xF8,  # 0x14 MDMCFG0
    0x44,  # 0x15 DEVIATN  38 kHz
    0x07,  # 0x16 MCSM2
    0x00,  # 0x17 MCSM1    after RX: IDLE (start() writes 0x0C: stay in RX)
    0x18,  # 0x18 MCSM0    FS_AUTOCAL on IDLE -> RX
    0x2E,  # 0x19 FOCCFG
    0xBF,  # 0x1A BSCFG
    0x43, 0x09, 0xB5,  # 0x1B-0x1D AGCCTRL2/1/0
    0x87, 0x6B, 0xFB,  # 0x1E-0x20 WOREVT1/0, WORCTRL
    0xB6, 0x10,  # 0x21-0x22 FREND1/0
    0xEA, 0x2A, 0x00, 0x1F,  # 0x23-0x26 FSCAL3..0
    0x41, 0x00,  # 0x27-0x28 RCCTRL1/0
    0x59, 0x7F, 0x3F,  # 0x29-0x2B FSTEST, PTEST, AGCTEST
    0x81, 0x35, 0x09,  # 0x2C-0x2E TEST2/1/0
))

# Header bits and addresses (radio.md Errata 3).
_READ = const(0x80)
_BURST = const(0x40)
_PKTLEN = const(0x06)
_PKTCTRL0 = const(0x08)
_ARM = b"\x3a\x08\x02\x34"  # SFRX; PKTCTRL0 = 0x02 (infinite length); SRX
_MCSM1 = const(0x17)
_MCSM0 = const(0x18)
_SRES = const(0x30)
_SCAL = const(0x33)
_SRX = const(0x34)
_SIDLE = const(0x36)
_SFRX = const(0x3A)
_SNOP = const(0x3D)
_PARTNUM = const(0xF0)
_VERSION = const(0xF1)
_LQI = const(0xF3)
_RSSI = const(0xF4)
_MARCSTATE = const(0xF5)
_RXBYTES = const(0xFB)
_FIFO_BURST_READ = const(0xFF)
_MARC_IDLE = const(0x01)
_MARC_RX = const(0x0D)
_MARC_OVERFLOW = const(0x11)

_T_SYNC = const(0)
_T_PROGRESS = const(1)
_T_CHECK = const(2)
_T_LAST_SYNC = const(3)
_T_CAL = const(4)

# Driver states.
_OFF = const(0)
_WAIT = const(1)  # armed, no sync seen
_HEAD = const(2)  # sync seen, waiting for the first 3 bytes
_BODY = const(3)  # length known, draining

_RAW_MAX = const(440)  # T1 with L = 255: 290 bytes of frame A = 435 chip bytes (radio.md §3.4)


def rssi_dbm(raw):
    """RSSI register -> dBm: two's complement half-dB steps minus the offset. The half dB is
    floored (an arithmetic shift, as C code on the register does); the simulator's rssi_raw()
    rounds to the nearest half dB, so the two agree exactly on half-dB levels."""
    s = raw - 256 if raw >= 128 else raw
    return (s >> 1) - RSSI_OFFSET


def _crc_ok(buf, start, end):
    c = crc16(buf, start, end)
    return buf[end] == c >> 8 and buf[end + 1] == c & 0xFF


def strip_a(src, off, l_field, dst):
    """Frame A at src[off:] (L first, CRCs after block 1 and each 16 bytes) into dst without
    CRCs. Returns the length (L + 1) or -1 on a CRC error."""
    n = l_field + 1
    mv = memoryview(src)
    if not _crc_ok(src, off, off + 10):
        return -1
    dst[0:10] = mv[off:off + 10]
    i = off + 12
    o = 10
    while o < n:
        k = n - o
        if k > 16:
            k = 16
        if not _crc_ok(src, i, i + k):
            return -1
        dst[o:o + k] = mv[i:i + k]
        o += k
        i += k + 2
    return n


def strip_b(src, off, l_field, dst):
    """Frame B at src[off:] (L counts its CRCs: one at the end of block 2, one after block 3
    when L > 127) into dst without CRCs, L rewritten. Returns the length or -1."""
    n = l_field + 1
    mv = memoryview(src)
    if n <= 128:
        if not _crc_ok(src, off, off + n - 2):
            return -1
        m = n - 2
        dst[0:m] = mv[off:off + m]
    else:
        if not _crc_ok(src, off, off + 126) or not _crc_ok(src, off + 128, off + n - 2):
            return -1
        dst[0:126] = mv[off:off + 126]
        m = 126 + n - 130
        dst[126:m] = mv[off + 128:off + n - 2]
    dst[0] = m - 1
    return m


class CC1101:
    def __init__(self, queue, spi=None, cs=None, gdo0=None, gdo2=None, mode="T1+C1",
                 ticks_ms=None, ticks_us=None, silence_ms=600000, recal_ms=300000,
                 stall_ms=20, check_ms=50, autocal=False):
        if mode not in ("T1+C1", "C1+T1", "T1", "C1"):
            raise ValueError("cc1101: mode %r (one register set receives T1 and C1)" % (mode,))
        self.queue = queue
        self.counters = queue.counters
        for name in ("syncs", "stalls", "garbage", "salvaged"):
            if name not in self.counters:
                self.counters[name] = 0
        self._spi = spi
        self._cs = cs
        self._gdo0 = gdo0
        self._gdo2 = gdo2
        self._ms = ticks_ms or _compat_ticks_ms  # ticks_us is accepted; ms resolution suffices
        self.silence_ms = silence_ms  # watchdog: no sync for this long -> re-initialise
        self.recal_ms = recal_ms
        self.stall_ms = stall_ms  # no new byte for this long mid-frame -> flush (Errata 5)
        self.check_ms = check_ms  # MARCSTATE check interval while waiting
        # autocal=True keeps MCSM0 0x18 of radio.md §2.1: a calibration on every IDLE -> RX,
        # 799 us during which the next frame's sync is missed. The default writes MCSM0 0x08
        # after the table: IDLE -> RX in 75 us, and SCAL every recal_ms instead (SWRS061 Table
        # 34 timings). Measured: at 31 telegrams/s this halves the frames lost to re-arming.
        self.autocal = autocal
        self.error = None
        self.info = {"radio": "cc1101", "partnum": None, "version": None, "mode": "T1+C1"}
        self.lqi = None
        self.rssi = None
        self._sig = -1  # the RSSI register of the frame arriving, once read
        self._raw = bytearray(_RAW_MAX)
        self._dec = bytearray(292)  # frame A of the T1 frame being decoded
        # A T1 frame waits here for its 3-of-6 decoding, done in slices while the chip is idle:
        # [chips, L, RSSI dBm, sync ticks, bytes decoded so far]; the chip buffer is swapped
        # with _raw, not copied
        self._slot = [bytearray(_RAW_MAX), 0, 0, 0, 0]
        self._pend = False
        self._frame = bytearray(256)
        self._o1 = bytearray(1)
        self._i1 = bytearray(1)
        self._o2 = bytearray(2)
        self._i2 = bytearray(2)
        self._o4 = bytearray((_RXBYTES, 0, _RXBYTES, 0))
        self._i4 = bytearray(4)
        self._o_sig = bytes((_RSSI, 0, _LQI, 0))
        self._o_sigf = bytes((_RSSI, 0, _LQI, 0, _FIFO_BURST_READ))
        self._i5 = bytearray(5)
        self._state = _OFF
        self._busy = 0  # 1: inside poll(); 2: and an IRQ asked for another pass
        self._got = 0
        self._total = 0
        self._mode = 0
        self._fmt = 0
        self._l = 0
        self._switch_at = -1  # bytes since sync after which fixed length may be set
        # True once the chip is known to end this packet at the frame end by itself (its
        # PKTLEN landed before the byte count got there): then it listens again by itself
        # (MCSM1 0x0C) and _finish need not stop it. _verify: PKTLEN just written, check it.
        self._cont = False
        self._verify = False
        self._check_at = 0  # bytes after which block 1 of frame A is checked
        # ticks_ms of: this frame's sync, the last new byte, the last check, the last sync, the
        # last calibration
        self._t = [0, 0, 0, 0, 0]

    # -- SPI primitives (radio.md Errata 3) -----------------------------------------------------

    def _strobe(self, cmd):
        o = self._o1
        o[0] = cmd
        self._cs(0)
        self._spi.write_readinto(o, self._i1)
        self._cs(1)
        return self._i1[0]

    def _status(self, addr):
        """A status register: header with read and burst bits (0xF0..0xFD)."""
        o = self._o2
        o[0] = addr
        o[1] = 0
        self._cs(0)
        self._spi.write_readinto(o, self._i2)
        self._cs(1)
        return self._i2[1]

    def _write(self, addr, value):
        o = self._o2
        o[0] = addr
        o[1] = value
        self._cs(0)
        self._spi.write(o)
        self._cs(1)

    def _rxbytes(self):
        """RXBYTES (bit 7 overflow, bits 6..0 count), read twice back to back in one
        transaction until both reads agree (SWRS061 §10.3 SPI read synchronisation)."""
        o = self._o4
        i = self._i4
        for _ in range(4):
            self._cs(0)
            self._spi.write_readinto(o, i)
            self._cs(1)
            if i[1] == i[3]:
                break
        return i[3]

    def _read_fifo(self, off, n):
        """n bytes of the FIFO into the frame buffer at off. The first read that reaches
        byte 12 of the frame also takes RSSI (frozen at sync) and LQI (over the 64 symbols
        after it; DN505, SWRS061 §17.6): two single accesses ahead of the burst, in the same
        transaction, so they cost no SPI call of their own."""
        if self._sig < 0 and off + n >= 12:
            o = self._o_sigf
            i = self._i5
        else:
            o = self._o1
            o[0] = _FIFO_BURST_READ
            i = self._i1
        self._cs(0)
        self._spi.write_readinto(o, i)
        self._spi.readinto(memoryview(self._raw)[off:off + n], 0)
        self._cs(1)
        if i is self._i5:
            self._sig = i[1]
            self.lqi = i[3] & 0x7F

    def _wait_marc(self, want, limit_ms):
        t0 = self._ms()
        while True:
            m = self._status(_MARCSTATE) & 0x1F
            if m == want:
                return True
            if ticks_diff(self._ms(), t0) > limit_ms:
                return False

    # -- set-up ---------------------------------------------------------------------------------

    def start(self):
        """Reset, identify, configure, calibrate and enter RX. False (and self.error) when no
        CC1101 answers."""
        self._state = _OFF
        self._cs(1)
        self._strobe(_SRES)
        t0 = self._ms()
        while self._strobe(_SNOP) & 0x80:  # CHIP_RDYn: the crystal is not running yet
            if ticks_diff(self._ms(), t0) > 10:
                break
        part = self._status(_PARTNUM)
        ver = self._status(_VERSION)
        self.info["partnum"] = part
        self.info["version"] = ver
        # PARTNUM is 0x00 on every CC1101; VERSION 0x14 usually, 0x04 on some lots (radio.md
        # Errata 8). A bus without a chip reads 0x00 or 0xFF throughout.
        if part != 0x00 or ver in (0x00, 0xFF):
            self.error = ("cc1101: no chip answers on SPI (PARTNUM 0x%02x, VERSION 0x%02x): "
                          "check wiring, CS pin and 3.3 V supply" % (part, ver))
            return False
        o = bytearray(1 + len(CONFIG))
        o[0] = _BURST  # burst write from 0x00
        o[1:] = CONFIG
        self._cs(0)
        self._spi.write(o)
        self._cs(1)
        back = bytearray(1 + len(CONFIG))
        o[0] = _READ | _BURST
        self._cs(0)
        self._spi.write_readinto(o, back)
        self._cs(1)
        if back[1:] != CONFIG:
            self.error = "cc1101: registers read back differ from those written (SPI fault?)"
            return False
        if not self.autocal:
            self._write(_MCSM0, 0x08)
        # RXOFF_MODE = RX (SWRS061 MCSM1): at the end of a fixed-length packet the chip
        # listens again by itself, without waiting for the driver to re-arm it (_finish).
        self._write(_MCSM1, 0x0C)
        self._strobe(_SIDLE)
        self._strobe(_SCAL)
        if not self._wait_marc(_MARC_IDLE, 5):
            self.error = "cc1101: calibration did not finish"
            return False
        self.error = None
        now = self._ms()
        self._t[_T_LAST_SYNC] = now
        self._t[_T_CAL] = now
        self._arm()
        return True

    def _arm(self):
        """SIDLE, SFRX, infinite length, SRX: ready for the next sync word. The last three
        go in one SPI transaction (SWRS061 §10.4: a command strobe may be followed by any
        other access without CSn going high): each call costs the ESP32 most of a
        millisecond of Python, time in which the chip is not listening. SFRX stays apart from
        SIDLE, so that the chip is in IDLE when it comes."""
        self._strobe(_SIDLE)
        self._cs(0)
        self._spi.write(_ARM)
        self._cs(1)
        self._sig = -1
        self._got = 0
        self._cont = False
        self._verify = False
        self._state = _WAIT
        self._t[_T_CHECK] = self._ms()

    def _reinit(self):
        self.counters["resets"] += 1
        if not self.start():
            self._state = _OFF

    # -- reception ------------------------------------------------------------------------------

    @property
    def receiving(self):
        """True while a frame is arriving (or its 3-of-6 decoding waits): the firmware keeps
        flash writes and network I/O for when this is False."""
        if self._state == _HEAD or self._state == _BODY or self._pend:
            return True
        return self._gdo2 is not None and self._gdo2.value() == 1

    def on_gdo(self, pin=None):
        """Pin IRQ handler (soft IRQ on the ESP32): no edge counting, it only polls, and if the
        interrupted code is inside poll() it leaves a flag that poll() acts on."""
        if self._busy:
            self._busy = 2
            return
        self.poll()

    def poll(self):
        """Service the chip without waiting. Returns the number of frames queued."""
        if self._busy:
            self._busy = 2
            return 0
        n = 0
        try:
            for _ in range(32):
                self._busy = 1
                n += self._service()
                if self._busy == 2:
                    continue  # an IRQ came in meanwhile: serve the chip again
                if self._pend and self._state == _WAIT and self._idle():
                    n += self._decode_slice()  # one slice, then look at the chip again
                    continue
                break
        finally:
            self._busy = 0
        return n

    def _service(self):
        st = self._state
        if st == _OFF:
            return 0
        now = self._ms()
        if st == _WAIT:
            g2 = self._gdo2
            if g2 is not None and not g2.value():
                g0 = self._gdo0
                # GDO0 (FIFO threshold) high without a sync: a frame overflowed unseen
                if (g0 is None or not g0.value()) and ticks_diff(now, self._t[_T_CHECK]) < self.check_ms:
                    return 0
                return self._housekeeping(now)
            if g2 is None:
                nb = self._rxbytes()
                if nb & 0x80:
                    return self._overflow(nb)
                if nb == 0:
                    if ticks_diff(now, self._t[_T_CHECK]) >= self.check_ms:
                        return self._housekeeping(now)
                    return 0
            self.counters["syncs"] += 1
            self._state = st = _HEAD
            self._t[_T_SYNC] = now
            self._t[_T_LAST_SYNC] = now
            self._t[_T_PROGRESS] = now
        if st == _HEAD:
            nb = self._rxbytes()
            if nb & 0x80:
                return self._overflow(nb)
            have = self._got  # bytes of this frame read with the one before (_finish)
            # Everything there but one byte (SWRZ020), header included: on an ESP32 this is
            # ~4 ms after the sync, so a short frame is often complete already
            k = nb - 1 if nb > 1 else 0
            if have + k < 3:
                return self._stall_check(now)
            if k:
                self._read_fifo(have, k)
            have += k
            if not self._header():
                self._arm()
                return 0
            self._got = have
            if have >= self._total:  # the chip is past the frame end: _finish re-arms it
                return self._finish()
            if self._check_at and have >= self._check_at and not self._block1_ok():
                self.counters["crc"] += 1
                self._arm()
                return 0
            self._program_length()
            self._verify = self._total < 256
            self._t[_T_PROGRESS] = now
            self._state = st = _BODY
        # _BODY: drain what is there
        for _ in range(4):
            nb = self._rxbytes()
            if nb & 0x80:
                return self._overflow(nb)
            if self._verify:
                # the first count after the PKTLEN write: below the frame's length, the
                # write came in time and the chip ends the packet at the frame end
                self._verify = False
                self._cont = self._got + nb < self._total
            rem = self._total - self._got
            if nb >= rem:
                return self._rest(rem, nb > rem)
            if nb < 2:
                g2 = self._gdo2
                if g2 is not None and not g2.value():
                    # No packet arriving, yet bytes of this frame missing: the chip ended the
                    # packet short, at the length of the frame before (this one began before
                    # the driver restored infinite length). Count again, then re-arm at once
                    # rather than take the next frame's bytes for this one's rest.
                    nb = self._rxbytes()
                    if nb & 0x80:
                        return self._overflow(nb)
                    if nb >= rem:
                        return self._rest(rem, nb > rem)
                    self.counters["overflow"] += 1
                    self._arm()
                    return 0
                return self._stall_check(now)
            self._read_fifo(self._got, nb - 1)
            self._got += nb - 1
            self._t[_T_PROGRESS] = now
            if self._check_at and self._got >= self._check_at and not self._block1_ok():
                # the header block is corrupt (a collision, noise): L cannot be trusted, so
                # stop now rather than receive up to 440 bytes of nothing
                self.counters["crc"] += 1
                self._arm()
                return 0
            if self._switch_at >= 0 and self._got + 1 > self._switch_at:
                # fewer than 256 bytes to come: fixed length ends the packet at the frame end
                self._write(_PKTCTRL0, 0x00)
                self._switch_at = -1
        return 0

    def _header(self):
        """Mode, format and total byte count from the first three bytes (False: not a
        frame). PKTLEN is programmed apart (_program_length): not when the frame is in."""
        r = self._raw
        c = self.counters
        if r[0] == 0x54:  # C mode: the second half of the 32-bit sync (radio.md §3.2)
            l_field = r[2]
            self._mode = MODE_C1
            if r[1] == 0xCD:
                if l_field < 9:
                    c["garbage"] += 1
                    return False
                self._fmt = FORMAT_A
                total = 2 + size_format_a(l_field)
            elif r[1] == 0x3D:
                if l_field < 12 or l_field == 128:  # no room for a CRC / no block 3
                    c["garbage"] += 1
                    return False
                self._fmt = FORMAT_B
                total = 2 + l_field + 1
            else:
                c["garbage"] += 1
                return False
        else:
            if decode_3of6(r, 2, self._frame) is None:
                c["crc"] += 1  # bad 3-of-6 coding in the first chips
                return False
            l_field = self._frame[0]
            if l_field < 9:
                c["garbage"] += 1
                return False
            self._mode = MODE_T1
            self._fmt = FORMAT_A
            total = size_3of6(size_format_a(l_field))
        self._l = l_field
        # Frame A's block 1 (L, C, M, A + CRC) is checked as soon as it is in (T1: 18 chips)
        self._check_at = 0 if self._fmt == FORMAT_B else 14 if self._mode == MODE_C1 else 18
        if total >= 256 and total & 0xFF == 0:
            total += 1  # PKTLEN 0 is not allowed (Errata 2): take one byte more
        self._total = total
        self._switch_at = total - 255 if total >= 256 else -1
        return True

    def _program_length(self):
        """PKTLEN, PKTCTRL1, PKTCTRL0 in one burst: fixed length ends the packet at the frame
        end; 256 bytes or more stay infinite with PKTLEN = total mod 256 until fewer than 256
        remain. Written late (the chip already past the frame end) it changes nothing that
        matters: the driver counts the bytes itself and re-arms at the frame end."""
        total = self._total
        o = self._i4  # free until the next RXBYTES read
        o[0] = _BURST | _PKTLEN
        o[1] = total & 0xFF
        o[2] = 0x00
        o[3] = 0x00 if total < 256 else 0x02
        self._cs(0)
        self._spi.write(o)
        self._cs(1)

    def _block1_ok(self):
        self._check_at = 0
        if self._mode == MODE_C1:
            return _crc_ok(self._raw, 2, 12)
        if decode_3of6(self._raw, 12, self._frame) is None:
            return False
        return _crc_ok(self._frame, 0, 10)

    def _signal(self):
        """RSSI (frozen at sync until the next RX entry, DN505) and LQI in one transaction: a
        header byte follows each single access (as in _rxbytes), one SPI call less. For a
        short frame this runs between its end and the re-arm: the chip is deaf meanwhile."""
        i = self._i4  # free until the next RXBYTES read
        self._cs(0)
        self._spi.write_readinto(self._o_sig, i)
        self._cs(1)
        self._sig = i[1]
        self.lqi = i[3] & 0x7F  # bit 7 is CRC_OK (hardware CRC off: reads 1)

    def _rest(self, rem, more):
        """The frame's last rem bytes are in the FIFO: read them and finish the frame."""
        self._read_fifo(self._got, rem)
        self._got = self._total
        return self._finish(more)

    def _finish(self, more=False):
        """The frame is in: the chip listening again, then the frame checked and queued.
        more: the FIFO holds bytes after it (the next frame, arriving)."""
        if self._sig < 0:  # not read with the FIFO (a salvaged frame read in one go is)
            self._signal()
        sig = self._sig
        synced = self._t[_T_SYNC]
        carry = 0
        if self._cont:
            # The chip ended the packet at the frame end and is in RX again by itself: no
            # SIDLE/SFRX/SRX, no dead time, however late this runs. Only the length mode goes
            # back to infinite for the next frame (a frame already arriving switches with it,
            # and gets its length from its own header). Bytes read past the end, or more in
            # the FIFO, are the next frame's.
            self._cont = False
            self._write(_PKTCTRL0, 0x02)
            carry = self._got - self._total
            self._sig = -1
            self._state = _HEAD if carry or more else _WAIT
            now = self._ms()
            self._t[_T_SYNC] = self._t[_T_PROGRESS] = self._t[_T_CHECK] = now
        else:
            self._arm()
        self.rssi = rssi_dbm(sig)
        if self._mode == MODE_T1:
            # 3-of-6 decoding costs ~0.1 ms per byte on an ESP32: it waits until the chip is
            # idle (_decode_slice), so that the next frame's FIFO is served in time
            q = 0
            while self._pend:  # the previous T1 frame still waits: finish it now
                q += self._decode_slice()
            slot = self._slot
            slot[0], self._raw = self._raw, slot[0]
            if carry:
                self._raw[0:carry] = slot[0][self._total:self._total + carry]
            self._got = carry
            slot[1] = self._l
            slot[2] = self.rssi
            slot[3] = synced
            slot[4] = 0
            self._pend = True
            return q
        if self._fmt == FORMAT_A:
            n = strip_a(self._raw, 2, self._l, self._frame)
        else:
            n = strip_b(self._raw, 2, self._l, self._frame)
        if carry:
            self._raw[0:carry] = self._raw[self._total:self._total + carry]
        self._got = carry
        if n < 0:
            self.counters["crc"] += 1
            return 0
        return 1 if self.queue.put(memoryview(self._frame), n, self._mode, self._fmt, self.rssi,
                                   synced) else 0

    def _idle(self):
        """No frame arriving: GDO2 low (or, without the pin, an empty RX FIFO)."""
        if self._gdo2 is not None:
            return not self._gdo2.value()
        return self._rxbytes() == 0

    def _decode_slice(self):
        """Decode the next 24 bytes of the oldest waiting T1 frame (about 3 ms of Python on an
        ESP32); when it is complete, check and strip its CRCs and queue it."""
        slot = self._slot
        l_field = slot[1]
        na = size_format_a(l_field)
        done = slot[4]
        n = na - done
        if n > 24:
            n = 24
        if decode_3of6(memoryview(slot[0])[done * 3 // 2:], n,
                       memoryview(self._dec)[done:]) is None:
            self.counters["crc"] += 1
            self._pend = False
            return 0
        slot[4] = done + n
        if done + n < na:
            return 0
        self._pend = False
        m = strip_a(self._dec, 0, l_field, self._frame)
        if m < 0:
            self.counters["crc"] += 1
            return 0
        return 1 if self.queue.put(memoryview(self._frame), m, MODE_T1, FORMAT_A, slot[2],
                                   slot[3]) else 0

    def _overflow(self, nb=-1):
        """RX FIFO overflow: the chip stopped with the first bytes of the packet in the FIFO,
        and they can still be read until SFRX (chester4444's receiver reads all its frames so,
        radio.md §2.4 C). A frame that fits in them - most C1 frames, the Kamstrup compact ones
        always - is taken from there ("salvaged"): the driver was late, the frame is not lost.
        Its CRCs are checked like any other's."""
        st = self._state
        self._cont = False  # stopped: only SIDLE + SFRX gets it out
        if st != _OFF:
            if nb < 0:
                nb = self._rxbytes()
            avail = nb & 0x7F
            if st == _BODY:
                rem = self._total - self._got
                if avail >= rem:
                    self.counters["salvaged"] += 1
                    return self._rest(rem, False)
            elif self._got + avail >= 4:  # the sync unseen (_WAIT) or the header not read
                have = self._got  # bytes carried over from the frame before
                if st == _WAIT:
                    self.counters["syncs"] += 1
                    self._t[_T_SYNC] = self._t[_T_LAST_SYNC] = self._ms()
                self._read_fifo(have, avail)
                if self._header() and have + avail >= self._total:
                    self._got = self._total
                    self.counters["salvaged"] += 1
                    return self._finish()
        self.counters["overflow"] += 1
        self._arm()
        return 0

    def _stall_check(self, now):
        if ticks_diff(now, self._t[_T_PROGRESS]) > self.stall_ms:
            # no byte for stall_ms although the frame is not complete: the chip hangs in RX
            # (66/67-byte erratum) or the frame was cut; only SIDLE + SFRX recovers
            self.counters["stalls"] += 1
            self.counters["overflow"] += 1
            self._arm()
        return 0

    def _housekeeping(self, now):
        """While waiting for a sync: overflow, odd MARCSTATE, silence and recalibration."""
        self._t[_T_CHECK] = now
        m = self._status(_MARCSTATE) & 0x1F
        if m == _MARC_OVERFLOW:
            return self._overflow()
        if m != _MARC_RX and not (0x03 <= m <= 0x0C):  # 0x03-0x0C: calibrating, settling
            self._reinit()
            return 0
        if self.silence_ms and ticks_diff(now, self._t[_T_LAST_SYNC]) > self.silence_ms:
            self._reinit()
            self._t[_T_LAST_SYNC] = now
            return 0
        if self.recal_ms and ticks_diff(now, self._t[_T_CAL]) > self.recal_ms:
            self._t[_T_CAL] = now
            if not self.autocal:
                self._strobe(_SIDLE)
                self._strobe(_SCAL)
                self._wait_marc(_MARC_IDLE, 2)
            self._arm()  # with FS_AUTOCAL, IDLE -> RX calibrates
        return 0
