"""A CC1101 behind its SPI protocol, receiving simulated transmissions in simulated time.

Modelled after the TI CC1101 data sheet (SWRS061) and its errata (SWRZ020), as restated in
../shared/docs/radio.md (Errata, §2):

* SPI: header byte R/W (0x80) | burst (0x40) | address. Config registers 0x00-0x2E with their
  reset values, single and burst access (the address auto-increments in a burst); PATABLE 0x3E;
  FIFO 0x3F. Addresses 0x30-0x3D are command strobes unless read with the burst bit, which
  selects a status register (PARTNUM 0xF0, VERSION 0xF1, LQI 0xF3, RSSI 0xF4, MARCSTATE 0xF5,
  RXBYTES 0xFB ...): reading MARCSTATE as 0xB5 executes STX, as on the chip. Every header byte
  and every written data byte clocks out the status byte (CHIP_RDYn, STATE, FIFO_BYTES_AVAILABLE).
* The RX FIFO: 64 bytes plus the one-byte pre-fetch buffer. With more than 65 bytes received and
  not read the chip enters RXFIFO_OVERFLOW (MARCSTATE 0x11, RXBYTES bit 7) - except when the
  packet ends with 66 or 67 bytes received: then it stays in RX, receives nothing more and GDO
  0x06 stays asserted until SIDLE + SFRX (the overflow erratum, radio.md Errata 5; TI's CC430
  errata describe the same FIFO). Emptying the FIFO while a packet is still arriving duplicates
  the last byte read (SWRZ020 "RX FIFO pointer" issue, radio.md §2.4 step 6).
* Packet engine: sync detection on SYNC1:SYNC0; PKTCTRL0 LENGTH_CONFIG fixed (the packet ends
  when the byte counter mod 256 equals PKTLEN), variable (first byte = length, discarded when
  above PKTLEN) and infinite; PKTCTRL1 APPEND_STATUS; MCSM1 RXOFF_MODE after a packet.
* GDO0/GDO2 per IOCFG0/IOCFG2: 0x00 / 0x01 (RX FIFO threshold of FIFOTHR, 4 * (FIFO_THR + 1)
  bytes, 0x01 also at end of packet), 0x06 (sync word .. end of packet / overflow), 0x07, 0x2E
  (hi-Z, read as 0), 0x29 CHIP_RDYn, bit 6 inverts.
* Timing: IDLE -> RX takes 799 us with FS_AUTOCAL = 01 (calibration) and 75 us without;
  SCAL 724 us (799 - 75) (radio.md §2.5 from SWRS061 Table 34).
* RSSI register: two's complement, 0.5 dB steps, offset 74 dB at 868 MHz (SWRS061 §17.3, DN505);
  frozen at sync until the chip next enters RX (DN505). LQI: bits 6..0 a model (lower is
  better), bit 7 CRC_OK reads 1 with the hardware CRC off (radio.md Errata 4).

The air: `feed(iterable of onair.Transmission)` in start order, pulled lazily. The chip locks on
a transmission only if it is in RX, not busy with another packet, was already in RX
SYNC_LEAD_US before the sync word ended (bit sync needs some preamble), is tuned (FREQ, data
rate, 2-FSK, sync word 0x543D) and the signal is above SENSITIVITY_DBM. Bytes enter the FIFO
every 80 us. After the transmission ends the demodulator delivers noise bytes.

Collisions (capture): a byte or a sync word of the wanted signal survives an overlapping
transmission only if it is at least CAPTURE_DB stronger; otherwise the bytes that overlap are
corrupted (and a corrupted sync word is not detected). 10 dB is this model's choice (the
project's issue): it is not a data-sheet figure - SWRS061 specifies co-channel rejection per
data rate in its RX tables, which we could not check for 100 kBaud.

Time: `clock_us` advances by `advance_us(n)` and by every SPI call (spi_call_cost_us, the
CPU time a MicroPython SPI call takes on the ESP32, plus 8 bits per byte at spi_baud). Pin IRQ
handlers are run after `advance_us` as soft IRQs (at most 8 pending, as on the ESP32).
"""

from radio.cc1101 import RSSI_OFFSET

US_PER_BYTE = 80
SYNC_LEAD_US = 240  # the 16 sync bits plus 8 preamble bits for bit synchronisation (model)
SYNC_WORD_US = 160
CAPTURE_DB = 10
SENSITIVITY_DBM = -104  # model figure for 2-FSK around 100 kBaud
NOISE_FLOOR_DBM = -105
CAL_US = 724
SETTLE_US = 75

# MARCSTATE values (SWRS061 Table 'MARCSTATE').
IDLE = 0x01
MANCAL = 0x05
STARTCAL = 0x08
IFADCON = 0x0B
RX = 0x0D
RXFIFO_OVERFLOW = 0x11
FSTXON = 0x12
TX = 0x13
TXFIFO_UNDERFLOW = 0x16
# STATE field of the status byte for each MARCSTATE the model uses.
_STATUS_STATE = {IDLE: 0, MANCAL: 4, STARTCAL: 4, IFADCON: 5, RX: 1, RXFIFO_OVERFLOW: 6, FSTXON: 3,
                 TX: 2, TXFIFO_UNDERFLOW: 7}

# Reset values of the configuration registers 0x00-0x2E (SWRS061 §29, register table).
RESET = bytes((
    0x29, 0x2E, 0x3F, 0x07, 0xD3, 0x91, 0xFF, 0x04, 0x45, 0x00, 0x00, 0x0F, 0x00, 0x1E, 0xC4,
    0xEC, 0x8C, 0x22, 0x02, 0x22, 0xF8, 0x47, 0x07, 0x30, 0x04, 0x36, 0x6C, 0x03, 0x40, 0x91,
    0x87, 0x6B, 0xF8, 0x56, 0x10, 0xA9, 0x0A, 0x20, 0x0D, 0x41, 0x00, 0x59, 0x7F, 0x3F, 0x88,
    0x31, 0x0B))

IOCFG2, IOCFG0, FIFOTHR, SYNC1, SYNC0, PKTLEN, PKTCTRL1, PKTCTRL0 = 0x00, 0x02, 0x03, 0x04, \
    0x05, 0x06, 0x07, 0x08
FREQ2, MDMCFG4, MDMCFG3, MDMCFG2, MCSM1, MCSM0 = 0x0D, 0x10, 0x11, 0x12, 0x17, 0x18

PARTNUM_VALUE = 0x00
VERSION_VALUE = 0x14


def rssi_raw(dbm):
    """The RSSI register for a signal of `dbm`: 2 * (dBm + offset), rounded half up, in 8-bit
    two's complement. rssi_dbm() in the driver is the inverse (floor of raw / 2)."""
    v = 2 * (dbm + RSSI_OFFSET) + 0.5
    r = int(v)
    if v < r:  # int() truncates towards zero: make it a floor
        r -= 1
    if r > 127:
        r = 127
    if r < -128:
        r = -128
    return r & 0xFF


def lqi_model(dbm, corrupted):
    """LQI bits 6..0 (lower = better): not specified numerically by TI; a monotone model."""
    q = int((-50 - dbm) * 2)
    if corrupted:
        q += 30
    return 2 if q < 2 else 127 if q > 127 else q


class SimPin:
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, sim, gdo):
        self._sim = sim
        self._gdo = gdo  # 0 or 2
        self.handler = None
        self.trigger = 0
        self.level = 0

    def value(self, v=None):
        if v is None:
            return self._sim._gdo_level(self._gdo)
        return None  # an input pin: writes are ignored

    __call__ = value

    def irq(self, handler=None, trigger=3, **kw):
        self.handler = handler
        self.trigger = trigger


class SimCS:
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, sim):
        self._sim = sim
        self.level = 1

    def value(self, v=None):
        if v is None:
            return self.level
        v = 1 if v else 0
        if v != self.level:
            self.level = v
            self._sim._hdr = -1  # a new transaction starts with a header byte
        return None

    __call__ = value

    def init(self, *a, **kw):
        pass

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


class SimSPI:
    def __init__(self, sim):
        self._sim = sim

    def write(self, buf):
        s = self._sim
        s._spi_call(len(buf))
        for b in buf:
            s._xfer(b)
        return None

    def read(self, n, write=0):
        out = bytearray(n)
        self.readinto(out, write)
        return bytes(out)

    def readinto(self, buf, write=0):
        s = self._sim
        s._spi_call(len(buf))
        for i in range(len(buf)):
            buf[i] = s._xfer(write)
        return None

    def write_readinto(self, out, inbuf):
        s = self._sim
        s._spi_call(len(out))
        for i in range(len(out)):
            inbuf[i] = s._xfer(out[i])
        return None


class SimCC1101:
    def __init__(self, spi_baud=4000000, spi_call_cost_us=0, present=True):
        self.clock_us = 0
        self.spi_baud = spi_baud
        self.spi_call_cost_us = spi_call_cost_us
        self.present = present  # False: nothing on the bus, MISO floats high
        self.spi = SimSPI(self)
        self.cs = SimCS(self)
        self.gdo0 = SimPin(self, 0)
        self.gdo2 = SimPin(self, 2)
        self.deaf = False  # a hung demodulator: in RX but never syncs (cleared by SRES)
        self.violations = {}  # protocol errors the driver made, by name
        self.stats = {"synced": 0, "packets": 0, "overflows": 0, "stuck": 0, "missed_busy": 0,
                      "missed_not_rx": 0, "missed_collision": 0, "strobes": 0, "spi_calls": 0,
                      "pktlen_zero": 0, "sres": 0, "scal": 0, "calibrations": 0}
        self.log = None  # a list to record (clock_us, header, data) register writes, if set
        self._feed = None
        self._window = []  # transmissions not yet over, in sync order
        self._seen = []  # those of them whose sync word has been dealt with
        self._irq_queue = []
        self._hdr = -1
        self._reset()

    # -- air ------------------------------------------------------------------------------------

    def feed(self, transmissions):
        """Transmissions in order of start_us (an iterable, pulled only as time reaches them)."""
        self._feed = iter(transmissions)

    def _pull(self, until_us):
        """Move transmissions from the feed into the window until one starts after until_us
        (that one is in the window too: it is simply not due yet)."""
        w = self._window
        while self._feed is not None:
            if w and w[-1].start_us > until_us:
                return
            try:
                tx = next(self._feed)
            except StopIteration:
                self._feed = None
                return
            i = len(w)
            while i > 0 and w[i - 1].sync_us > tx.sync_us:
                i -= 1
            w.insert(i, tx)

    # -- state ----------------------------------------------------------------------------------

    def _reset(self):
        self.regs = bytearray(RESET)
        self.patable = bytearray(9)  # 8 entries, then the PATABLE access index
        self._marc = IDLE
        self._ready_at = 0  # end of a calibration / settling
        self._rx_since = 0
        self._fifo = bytearray(66)  # 64 bytes + the pre-fetch byte; [65]: the last byte read
        self._fh = 0
        self._fn = 0
        self._pend = 0  # bytes of the current packet that found the FIFO full
        self._dup = -1
        self._pkt = None
        self._bad = ()
        self._count = 0
        self._plen = -1
        self._stuck = False
        self._eop = 0  # end-of-packet flag for GDO 0x07
        # GDO 0x01 (SWRS061 Table 41): "asserts when the RX FIFO is filled at or above the
        # threshold or the end of packet is reached; de-asserts when the RX FIFO is empty":
        # a packet ended since the FIFO was last empty (a new sync does not clear it)
        self._eop1 = 0
        self._rssi = -1  # the RSSI register: -1 while it follows the channel (not frozen)
        self._lqi = 0x80 | 127
        self._tuned = False
        self._retune()

    def _retune(self):
        """Whether the configuration can receive wM-Bus T1/C1 at all: 868.95 MHz, 2-FSK around
        100 kBaud (within the +-12.5 % BSCFG tolerance), a 16-bit sync mode, sync word 0x543D."""
        r = self.regs
        freq = ((r[FREQ2] << 16) | (r[FREQ2 + 1] << 8) | r[FREQ2 + 2]) * 26e6 / 65536
        e = r[MDMCFG4] & 0x0F
        drate = (256 + r[MDMCFG3]) * (2 ** e) * 26e6 / (1 << 28)
        mod = (r[MDMCFG2] >> 4) & 7
        sync_mode = r[MDMCFG2] & 3  # 1..3: 15/16, 16/16, 30/32 bits (bit 2 adds carrier sense)
        self._tuned = (abs(freq - 868.95e6) < 50e3 and 87500 <= drate <= 112500 and mod == 0
                       and sync_mode in (1, 2) and r[SYNC1] == 0x54 and r[SYNC0] == 0x3D)

    def marcstate(self):
        self._run(self.clock_us)
        return self._marc

    def glitch(self, marcstate):
        """Put the chip into a state it should not be in (a brown-out, an SPI glitch)."""
        self._abort_packet()
        self._marc = marcstate

    def rx_fifo_count(self):
        return self._fn

    # -- time -----------------------------------------------------------------------------------

    def advance_us(self, n):
        self._run(self.clock_us + n)
        self._deliver_irqs()

    def advance_to(self, t):
        if t > self.clock_us:
            self.advance_us(t - self.clock_us)

    def _spi_call(self, nbytes):
        self.stats["spi_calls"] += 1
        cost = self.spi_call_cost_us + (nbytes * 8 * 1000000 + self.spi_baud - 1) // self.spi_baud
        self._run(self.clock_us + cost)

    def _run(self, t):
        """Process every chip event up to time t, in order."""
        while True:
            nt = self._next_event(t)
            if nt < 0:
                break
            self.clock_us = nt
            self._event()
            self._check_edges()
        if t > self.clock_us:
            self.clock_us = t
        self._check_edges()

    def _next_event(self, limit):
        """Time of the next event not after `limit`, or -1; sets self._ev to its kind: 0 end of
        calibration, 1 a byte, or the transmission whose sync word ends."""
        best = -1
        m = self._marc
        if m == STARTCAL or m == IFADCON or m == MANCAL:
            if self._ready_at <= limit:
                best = self._ready_at
                self._ev = 0
        elif m == RX and not self._stuck:
            if self._pkt is not None:
                t = self._pkt.sync_us + US_PER_BYTE * (self._count + 1)
                if t <= limit:
                    best = t
                    self._ev = 1
            else:
                self._pull(limit + 40000)
                w = self._window
                now = self.clock_us
                while w and w[0].end_us < now - 50000:
                    old = w.pop(0)
                    if old in self._seen:
                        self._seen.remove(old)
                    else:
                        self.stats["missed_not_rx"] += 1  # its sync came while not in RX
                for tx in w:
                    if tx.sync_us < now or (tx.sync_us == now and tx in self._seen):
                        continue
                    if tx.sync_us <= limit:
                        best = tx.sync_us
                        self._ev = tx
                    break
        return best

    def _event(self):
        ev = self._ev
        now = self.clock_us
        if ev == 0:  # calibration / settling finished
            if self._marc == STARTCAL:  # FS_AUTOCAL before RX: then settle
                self._marc = IFADCON
                self._ready_at = now + SETTLE_US
            elif self._marc == MANCAL:  # SCAL: back to IDLE
                self._marc = IDLE
            else:
                self._marc = RX
                self._enter_rx()
        elif ev == 1:
            self._receive_byte()
        else:  # a sync word ends
            self._seen.append(ev)
            self._try_sync(ev)

    def _enter_rx(self):
        self._rx_since = self.clock_us
        self._rssi = -1
        self._stuck = False

    def _try_sync(self, tx):
        st = self.stats
        if self.deaf or not self._tuned or tx.rssi_dbm < SENSITIVITY_DBM:
            return
        if self._rx_since > tx.sync_us - SYNC_LEAD_US:
            st["missed_not_rx"] += 1
            return
        # every transmission that starts while this one is still on air
        self._pull(tx.end_us)
        t0 = tx.sync_us - SYNC_WORD_US
        bad = []
        for o in self._window:
            if o is tx or not (o.start_us < tx.end_us and tx.start_us < o.end_us):
                continue
            if tx.rssi_dbm < o.rssi_dbm + CAPTURE_DB:
                if o.start_us < tx.sync_us and t0 < o.end_us:
                    st["missed_collision"] += 1
                    return
                bad.append((o.start_us, o.end_us))
        st["synced"] += 1
        self._pkt = tx
        self._bad = bad
        self._count = 0
        self._pend = 0
        self._plen = -1
        self._eop = 0
        self._rssi = rssi_raw(tx.rssi_dbm)  # frozen until the next RX entry (DN505)
        self._lqi = 0x80 | lqi_model(tx.rssi_dbm, len(bad) > 0)
        for o in self._window:  # transmissions whose sync falls inside this packet are missed
            if o is not tx and tx.sync_us < o.sync_us < tx.end_us and o not in self._seen:
                st["missed_busy"] += 1
                self._seen.append(o)

    def _receive_byte(self):
        tx = self._pkt
        k = self._count
        t0 = tx.sync_us + US_PER_BYTE * k
        if k < len(tx.air):
            b = tx.air[k]
        else:  # the transmitter is gone: the demodulator delivers noise
            b = ((k * 1103515245 + tx.sync_us) >> 7) & 0xFF
        for s, e in self._bad:
            if s < t0 + US_PER_BYTE and t0 < e:
                b ^= 0x5A ^ ((k * 37) & 0xA5) | 0x01
                break
        r = self.regs
        length_config = r[PKTCTRL0] & 3
        if k == 0 and length_config == 1:
            if b > r[PKTLEN]:  # variable length above PKTLEN: packet discarded
                self._unlock()
                return
            self._plen = b + 1
        self._count = k + 1
        if not self._push(b):
            return
        n = self._count
        if length_config == 0:
            end = (n & 0xFF) == r[PKTLEN]
        elif length_config == 1:
            end = n == self._plen
        else:
            end = False
        if end:
            self._end_of_packet()

    def _push(self, b):
        """One byte into the FIFO. False when the chip has just overflowed."""
        if self._dup >= 0:  # SWRZ020: the FIFO was emptied mid-packet, the last byte repeats
            d = self._dup
            self._dup = -1
            self._push(d)
        if self._fn < 65 and not self._pend:
            i = self._fh + self._fn
            if i >= 65:
                i -= 65
            self._fifo[i] = b
            self._fn += 1
            return True
        self._pend += 1
        if self._pend >= 3:  # the 68th byte into a full FIFO: RXFIFO_OVERFLOW
            self.stats["overflows"] += 1
            self._unlock()
            self._marc = RXFIFO_OVERFLOW
            return False
        return True

    def _end_of_packet(self):
        r = self.regs
        if r[PKTCTRL1] & 0x04:  # APPEND_STATUS: RSSI, then CRC_OK | LQI
            if not self._push(self._rssi & 0xFF) or not self._push(self._lqi):
                return
        if self._pend:  # 66 or 67 bytes: the erratum, the chip hangs in RX
            self.stats["stuck"] += 1
            self._stuck = True
            return
        self.stats["packets"] += 1
        self._unlock()
        self._eop = 1
        self._eop1 = 1
        mode = (r[MCSM1] >> 2) & 3
        if mode == 0:
            self._marc = IDLE
        elif mode == 1:
            self._marc = FSTXON
        elif mode == 2:
            self._marc = TX
        else:
            self._enter_rx()

    def _unlock(self):
        self._pkt = None
        self._bad = ()

    def _abort_packet(self):
        self._unlock()
        self._stuck = False
        self._pend = 0

    # -- GDO ------------------------------------------------------------------------------------

    def _gdo_level(self, which):
        self._run(self.clock_us)
        return self._gdo_raw(which)

    def _gdo_raw(self, which):
        cfg = self.regs[IOCFG2 if which == 2 else IOCFG0]
        sel = cfg & 0x3F
        thr = 4 * ((self.regs[FIFOTHR] & 0x0F) + 1)
        if sel == 0x00:
            v = self._fn >= thr
        elif sel == 0x01:
            v = self._fn >= thr or (self._eop1 and self._fn > 0)
        elif sel == 0x06:
            v = self._pkt is not None or self._stuck
        elif sel == 0x07:
            v = self._eop and self._fn > 0
        elif sel == 0x29:
            v = 0  # CHIP_RDYn: low once the crystal runs
        else:
            v = 0  # 0x2E hi-Z and the signals this model does not drive
        v = 1 if v else 0
        if cfg & 0x40:
            v ^= 1
        return v

    def _check_edges(self):
        for p in (self.gdo0, self.gdo2):
            v = self._gdo_raw(p._gdo)
            if v != p.level:
                p.level = v
                if p.handler is not None and (p.trigger & (SimPin.IRQ_RISING if v else
                                                           SimPin.IRQ_FALLING)):
                    q = self._irq_queue
                    if len(q) < 8:  # MICROPY_SCHEDULER_DEPTH: further callbacks are lost
                        q.append(p)

    def _deliver_irqs(self):
        q = self._irq_queue
        while q:
            p = q.pop(0)
            p.handler(p)

    # -- SPI ------------------------------------------------------------------------------------

    def _violation(self, name):
        v = self.violations
        v[name] = v.get(name, 0) + 1

    def _status(self, read):
        n = self._fn if read else 64  # TX FIFO: free bytes (always empty here)
        st = _STATUS_STATE.get(self._marc, 0)
        return (st << 4) | (15 if n > 15 else n)

    def _xfer(self, b):
        if not self.present:
            return 0xFF
        if self.cs.level:
            self._violation("spi_without_cs")
            return 0xFF
        h = self._hdr
        if h < 0:  # header byte
            addr = b & 0x3F
            read = b & 0x80
            st = self._status(read)
            if 0x30 <= addr <= 0x3D:
                if not b & 0x40:
                    self._strobe(addr)
                    return st
                if not read:
                    self._violation("burst_write_to_strobe")
                    return st
            elif addr == 0x2F:
                self._violation("reserved_address")
            self._hdr = b
            return st
        addr = h & 0x3F
        read = h & 0x80
        burst = h & 0x40
        if 0x30 <= addr <= 0x3D:  # status register (read + burst); never a block
            self._hdr = -1
            return self._status_reg(addr)
        if addr == 0x3F:
            if not burst:
                self._hdr = -1
            if read:
                return self._fifo_pop()
            return self._status(0)  # TX FIFO byte: this model never transmits
        if addr == 0x3E:
            if not burst:
                self._hdr = -1
            i = self.patable[8] & 7
            self.patable[8] = i + 1
            if read:
                return self.patable[i]
            self.patable[i] = b
            return self._status(0)
        if not burst:
            self._hdr = -1
        elif addr < 0x2F:
            self._hdr = h + 1  # the address field counts up in a burst
        if addr > 0x2E:
            return 0
        if read:
            return self.regs[addr]
        self._write_reg(addr, b)
        return self._status(0)

    def _write_reg(self, addr, b):
        if self.log is not None:
            self.log.append((self.clock_us, addr, b))
        self.regs[addr] = b
        if addr == PKTLEN and b == 0:
            self.stats["pktlen_zero"] += 1
        if addr in (0x04, 0x05, 0x0D, 0x0E, 0x0F, 0x10, 0x11, 0x12):
            self._retune()

    def _fifo_pop(self):
        if self._fn == 0:
            self._violation("read_empty_fifo")
            return self._fifo[65]
        b = self._fifo[self._fh]
        self._fh = self._fh + 1 if self._fh < 64 else 0
        self._fn -= 1
        if self._fn == 0:
            self._eop1 = 0
        self._fifo[65] = b  # the last byte read (what an empty FIFO gives again)
        if self._fn == 0 and self._pkt is not None and not self._stuck:
            self._violation("fifo_emptied_during_packet")
            self._dup = b
        return b

    def _status_reg(self, addr):
        self._run(self.clock_us)
        if addr == 0x30:
            return PARTNUM_VALUE
        if addr == 0x31:
            return VERSION_VALUE
        if addr == 0x33:
            return self._lqi
        if addr == 0x34:
            if self._rssi < 0:
                return rssi_raw(self._live_rssi())
            return self._rssi
        if addr == 0x35:
            return self._marc
        if addr == 0x38:  # PKTSTATUS: CRC_OK, CS, PQT, CCA, SFD(sync), GDO2, -, GDO0
            sfd = 0 if self._pkt is None else 1
            return (sfd << 3) | (self._gdo_raw(2) << 2) | self._gdo_raw(0)
        if addr == 0x3B:
            return (0x80 if self._marc == RXFIFO_OVERFLOW else 0) | (self._fn & 0x7F)
        if addr == 0x3A:  # TXBYTES
            return 0
        return 0

    def _live_rssi(self):
        best = NOISE_FLOOR_DBM
        now = self.clock_us
        for tx in self._window:
            if tx.start_us <= now < tx.end_us and tx.rssi_dbm > best:
                best = tx.rssi_dbm
        return best

    def _strobe(self, addr):
        self.stats["strobes"] += 1
        self._run(self.clock_us)
        m = self._marc
        if addr == 0x30:  # SRES
            self.stats["sres"] += 1
            self.deaf = False
            self._reset()
            self._hdr = -1
        elif addr == 0x33:  # SCAL: only from IDLE
            self.stats["scal"] += 1
            if m == IDLE:
                self.stats["calibrations"] += 1
                self._marc = MANCAL
                self._ready_at = self.clock_us + CAL_US
            else:
                self._violation("scal_not_idle")
        elif addr == 0x34:  # SRX
            if m == IDLE or m == FSTXON:
                if m == IDLE and (self.regs[MCSM0] >> 4) & 3 == 1:
                    self.stats["calibrations"] += 1
                    self._marc = STARTCAL
                    self._ready_at = self.clock_us + CAL_US
                else:
                    self._marc = IFADCON
                    self._ready_at = self.clock_us + SETTLE_US
            elif m == RXFIFO_OVERFLOW:
                self._violation("srx_in_overflow")
        elif addr == 0x35:  # STX (CCA_MODE 0 in MCSM1: always)
            if m in (IDLE, RX, FSTXON):
                self._abort_packet()
                self._marc = TX  # the TX FIFO is empty: the modulator sends preamble
        elif addr == 0x36:  # SIDLE
            self._abort_packet()
            self._marc = IDLE
        elif addr == 0x3A:  # SFRX: only in IDLE or RXFIFO_OVERFLOW
            if m in (IDLE, RXFIFO_OVERFLOW):
                self._fh = 0
                self._fn = 0
                self._dup = -1
                self._pend = 0
                self._eop = 0
                self._eop1 = 0
                if m == RXFIFO_OVERFLOW:
                    self._marc = IDLE
            else:
                self._violation("sfrx_not_idle")
        elif addr == 0x3B:  # SFTX: only in IDLE or TXFIFO_UNDERFLOW
            if m not in (IDLE, TXFIFO_UNDERFLOW):
                self._violation("sftx_not_idle")
        elif addr in (0x31, 0x32, 0x38, 0x39, 0x3C):  # SFSTXON, SXOFF, SWOR, SPWD, SWORRST
            if addr == 0x31 and m == IDLE:
                self._marc = FSTXON
            elif addr != 0x3C:
                self._violation("strobe_%02x" % addr)
        # 0x3D SNOP: nothing
