# micropython-heap=160K: the simulated chip (host-only, ~20 KB) and its long test frames beside
# the driver and the decoder; the driver's own heap is what the 128 KB modules test.
"""CC1101 driver recovery (overflow, the 66/67-byte erratum, watchdog) and its real-time budget
at 50 telegrams/s, all in simulated time."""

import gc

from simradio.cc1101 import SimCC1101
from simradio.onair import Transmission
from wmbus.crc import crc16
from test_radio_cc1101_support import frame_of_len, rig, run, spaced, tx


def test_late_poll_overflows_then_recovers():
    sim, q, drv = rig()
    txs = spaced(((40, "C1", "A", -70), (100, "T1", "A", -70), (40, "C1", "B", -70),
                  (60, "T1", "A", -70)), gap_us=30000)
    sim.feed(txs)
    out = run(sim, q, drv, txs[0].end_us + 5000)
    sim.advance_to(txs[1].end_us + 1000)  # the gateway was busy (GC, flash) for the whole frame
    out = run(sim, q, drv, txs[-1].end_us + 20000, out=out)
    assert [f[0] for f in out] == [txs[0].frame, txs[2].frame, txs[3].frame]
    assert q.counters["overflow"] == 1 and sim.stats["overflows"] == 1
    assert not sim.violations


def test_a_short_frame_the_driver_missed_is_taken_from_the_overflowed_fifo():
    # The driver is busy for the whole of a short frame and long after it: in infinite length
    # the chip fills the FIFO with the noise after the frame and overflows, the frame itself
    # in the first bytes. They are read before SFRX and pass the CRC checks like any frame.
    for l_field, mode, fmt in ((30, "C1", "A"), (40, "C1", "B"), (20, "T1", "A")):
        sim, q, drv = rig()
        txs = spaced(((30, "C1", "A", -70), (l_field, mode, fmt, -70), (50, "T1", "A", -70)),
                     gap_us=30000)
        sim.feed(txs)
        out = run(sim, q, drv, txs[0].end_us + 5000)
        sim.advance_to(txs[1].end_us + 10000)  # 125 bytes of noise after it: overflowed
        assert sim.stats["overflows"] == 1 and sim.marcstate() == 0x11
        out = run(sim, q, drv, txs[-1].end_us + 20000, out=out)
        assert [f[0] for f in out] == [t.frame for t in txs], (l_field, mode, fmt)
        assert q.counters["salvaged"] == 1 and q.counters["overflow"] == 0
        assert q.counters["crc"] == 0 and not sim.violations


def test_the_chip_listens_again_by_itself_when_the_driver_is_late_for_a_frame_end():
    # MCSM1 RXOFF_MODE = RX: a frame that starts right after another one ends is heard even
    # though the driver comes back only after it began (with IDLE after RX, the chip would be
    # deaf until the driver re-armed it, and the second frame lost)
    sim, q, drv = rig()
    first = tx(5000, 30, "C1", "A")
    second = tx(first.end_us + 300, 40, "C1", "B", meter_id="87654321")
    third = tx(second.end_us + 300, 60, "T1", "A", meter_id="11223344")
    txs = [first, second, third]
    sim.feed(txs)
    sim.advance_to(first.sync_us + 10 * 80)
    drv.poll()  # header read, PKTLEN written
    sim.advance_to(first.sync_us + 20 * 80)
    drv.poll()  # the count confirms it came in time
    sim.advance_to(second.sync_us + 500)  # busy through the first frame's end
    assert sim.marcstate() == 0x0D and sim.gdo2.value() == 1  # in RX, the second arriving
    out = run(sim, q, drv, third.end_us + 20000)
    assert [f[0] for f in out] == [t.frame for t in txs]
    c = q.counters
    assert c["overflow"] == 0 and c["crc"] == 0 and c["salvaged"] == 0
    assert sim.stats.get("missed_not_rx", 0) == 0 and not sim.violations


def test_a_longer_frame_cut_at_the_last_length_is_counted_and_the_next_one_heard():
    # The driver is late after a short frame: a longer one begins before it has restored the
    # infinite length, and the chip ends that packet at the short frame's length. The driver
    # sees no packet arriving with bytes missing, counts the cut frame and re-arms at once,
    # rather than taking the next frame's bytes for its rest.
    sim, q, drv = rig()
    first = tx(5000, 20, "C1", "A")
    second = tx(first.end_us + 300, 60, "C1", "A", meter_id="87654321")
    third = tx(second.end_us + 3000, 30, "C1", "B", meter_id="11223344")
    sim.feed([first, second, third])
    sim.advance_to(first.sync_us + 10 * 80)
    drv.poll()
    sim.advance_to(first.sync_us + 16 * 80)
    drv.poll()
    sim.advance_to(second.sync_us + (len(first.air) + 3) * 80)
    assert sim.gdo2.value() == 0 and sim.marcstate() == 0x0D  # cut, listening again
    out = run(sim, q, drv, third.end_us + 30000)
    assert [f[0] for f in out] == [first.frame, third.frame]
    c = q.counters
    assert c["overflow"] == 1 and c["crc"] == 0 and not sim.violations


def test_66_67_byte_erratum_recovered_by_the_stall_timeout():
    sim, q, drv = rig()
    # C1 frame B with L(on air) = 66: 69 bytes after sync. The header is read at byte 4, then the
    # driver stalls: 66 bytes pile up in FIFO + pre-fetch and the packet ends -> hung in RX.
    first = tx(5000, 64, "C1", "B")
    assert len(first.air) == 69
    txs = [first] + spaced(((30, "C1", "A", -70), (50, "T1", "A", -70)),
                           first_us=first.end_us + 40000)
    sim.feed(txs)
    sim.advance_to(first.sync_us + 4 * 80 + 10)
    drv.poll()
    assert drv._state == 3  # length known, PKTLEN programmed
    sim.advance_to(first.end_us + 2000)
    assert sim.stats["stuck"] == 1 and sim.marcstate() == 0x0D and sim.gdo2.value() == 1
    out = run(sim, q, drv, txs[-1].end_us + 20000)
    assert [f[0] for f in out] == [txs[1].frame, txs[2].frame]
    assert q.counters["stalls"] == 1 and q.counters["overflow"] == 1


def test_watchdog_reinitialises_a_deaf_chip():
    sim, q, drv = rig(silence_ms=2000)
    sim.deaf = True  # in RX, never syncs (the "stops receiving" reports, radio.md §2.4 C)
    early = spaced(((30, "C1", "A", -70),), first_us=500000)
    late = spaced(((30, "C1", "A", -70), (60, "T1", "A", -70)), first_us=2600000)
    sim.feed(early + late)
    out = run(sim, q, drv, late[-1].end_us + 20000, 1000)
    assert [f[0] for f in out] == [late[0].frame, late[1].frame]
    assert q.counters["resets"] == 1 and sim.stats["sres"] == 2


def test_watchdog_reinitialises_on_odd_marcstate():
    sim, q, drv = rig()
    txs = spaced(((30, "C1", "A", -70), (30, "C1", "B", -70)), first_us=200000)
    sim.feed(txs)
    sim.advance_us(50000)
    sim.glitch(0x13)  # TX: a brown-out or a stray STX
    out = run(sim, q, drv, txs[-1].end_us + 20000, 1000)
    assert [f[0] for f in out] == [t.frame for t in txs]
    assert q.counters["resets"] == 1


def test_periodic_recalibration():
    for autocal in (False, True):
        sim, q, drv = rig(recal_ms=1000, autocal=autocal)
        n0 = sim.stats["calibrations"]
        run(sim, q, drv, 3500000, 2000)
        assert q.counters["resets"] == 0
        # 3.5 s without a frame: three calibrations (SCAL, or IDLE -> RX with FS_AUTOCAL)
        assert sim.stats["calibrations"] - n0 == 3
        assert sim.marcstate() == 0x0D and not sim.violations


def _lcg(seed):
    while True:
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        yield seed >> 8


class Tally:
    """CRCs of the frames sent, in a preallocated buffer (a growing list needs whole blocks
    of the small MicroPython test heap), and how the received ones match them in order."""

    def __init__(self, size=600):
        self.sent = bytearray(2 * size)
        self.n = 0
        self.pos = 0  # one past the furthest sent frame matched
        self.received = 0
        self.foreign = 0  # received frames that were never sent (corrupt ones passed on)

    def add(self, frame):
        c = crc16(frame)
        self.sent[2 * self.n] = c >> 8
        self.sent[2 * self.n + 1] = c & 0xFF
        self.n += 1

    def receive(self, frame):
        # a T1 frame waits for its decoding while a later C1 frame may be queued: look back a
        # few frames from the furthest match
        c = crc16(frame)
        p = self.pos - 4 if self.pos > 4 else 0
        while p < self.n:
            if (self.sent[2 * p] << 8) | self.sent[2 * p + 1] == c:
                self.received += 1
                if p + 1 > self.pos:
                    self.pos = p + 1
                return
            p += 1
        self.foreign += 1


def stream(seconds, rate_per_s, seed, tally, min_gap_us=3000):
    """Non-overlapping T1 / C1-A / C1-B telegrams averaging rate_per_s, at least min_gap_us
    apart (losses are then the gateway's own, not collisions). Built lazily into the tally."""
    r = _lcg(seed)
    t = 3000
    i = 0
    period = 1000000 // rate_per_s
    while t < seconds * 1000000:
        kind = next(r) % 3
        if kind == 0:
            x = Transmission(t, frame_of_len(20 + next(r) % 80, "%08d" % i), "T1", "A",
                             rssi_dbm=-60 - next(r) % 40)
        else:
            x = Transmission(t, frame_of_len(20 + next(r) % 40, "%08d" % i), "C1",
                             "A" if kind == 1 else "B", rssi_dbm=-60 - next(r) % 40)
        tally.add(x.frame)
        i += 1
        yield x
        # the next start: mean `period`, never before this one ended + min_gap_us
        t = max(x.end_us + min_gap_us, t + (next(r) % (2 * period)))


def budget(interval_us, call_cost_us, frame_cost_us, seconds=4, seed=7, min_gap_us=3000, **kw):
    """Frames lost by the gateway at 50/s: poll every interval_us; each SPI call costs
    call_cost_us and each queued frame frame_cost_us of CPU (decoding after the re-arm)."""
    sim = SimCC1101(spi_baud=4000000, spi_call_cost_us=call_cost_us)
    sim, q, drv = rig(sim, **kw)
    tally = Tally()
    sim.feed(stream(seconds, 50, seed, tally, min_gap_us))
    while sim.clock_us < seconds * 1000000 + 30000:
        n = drv.poll()
        f = q.get()
        while f is not None:
            tally.receive(f[0])
            f = q.get()
        if n:
            sim.advance_us(frame_cost_us * n)
            gc.collect()  # keeps the small test heap from fragmenting (frames are built lazily)
        sim.advance_us(interval_us)
    return tally, q.counters, sim


def test_budget_50_per_second_no_loss():
    # ESP32 figures (README): ~60 us per SPI call from Python, ~3 ms to decode a frame
    tally, c, sim = budget(2000, 60, 3000, seconds=3)
    assert tally.n >= 140
    assert tally.received == tally.n and tally.foreign == 0, (tally.received, tally.n, c)
    assert c["overflow"] == 0 and c["crc"] == 0 and not sim.violations


def test_budget_too_slow_polling_loses_and_counts():
    tally, c, sim = budget(8000, 60, 3000, seconds=2)
    assert tally.received < tally.n
    assert c["overflow"] > 0  # the losses are counted, never silent
    assert tally.foreign == 0  # and nothing corrupt passed
