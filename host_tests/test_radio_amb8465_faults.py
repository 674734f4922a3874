"""AMB8465 driver against its simulator, faults: bad checksums and garbage, partial reads, a
hung module (watchdog, reset, reconfiguration at the stored baud rate), UART buffer overflow.
"""

from radio import FrameQueue
from radio.amb8465 import AMB8465
from simradio.modules import Clock, SimAMB8465, transmissions, pump as run, drain

FWV = bytes.fromhex("ff0c00f3")


def setup(rxbuf=256):
    clock = Clock()
    sim = SimAMB8465(clock, rxbuf=rxbuf)
    q = FrameQueue(8)
    drv = AMB8465(q, uart=sim, reset=sim.reset, mode="T1+C1", ticks_ms=clock.ticks_ms,
                  sleep_ms=clock.sleep_ms, rxbuf=rxbuf)
    assert drv.start(), drv.error
    return clock, sim, q, drv


def frames(q):
    return [f[0] for f in drain(q)]


def test_bad_checksum_counted_and_dropped():
    clock, sim, q, drv = setup()
    txs = transmissions(clock.us + 10000, [("C1", "B"), ("T1", "A"), ("C1", "A")])
    sim.corrupt_next(1)
    sim.feed(txs)
    run(drv, clock, 400)
    assert frames(q) == [txs[1].frame, txs[2].frame]
    assert q.counters["checksum"] == 1 and q.counters["garbage"] >= 1


def test_bit_errors_on_air_never_reach_the_queue():
    clock, sim, q, drv = setup()
    txs = transmissions(clock.us + 10000, [("C1", "B"), ("T1", "A")])
    txs[0].flip(120)
    sim.feed(txs)
    run(drv, clock, 300)
    assert frames(q) == [txs[1].frame] and sim.dropped_crc == 1


def test_garbage_resync():
    clock, sim, q, drv = setup()
    sim.garbage(b"\x13\xff\x03\x40\x44\xff\xff\x8b\x02\x00" * 4)
    txs = transmissions(clock.us + 20000, [("C1", "A"), ("T1", "A")])
    sim.feed(txs)
    run(drv, clock, 300)
    assert frames(q) == [t.frame for t in txs]
    assert q.counters["garbage"] > 0


def test_partial_reads_across_polls():
    clock, sim, q, drv = setup()
    txs = transmissions(clock.us + 5000, [("C1", "B", 130), ("T1", "A")], 40000)
    sim.feed(txs)
    for _ in range(1500):
        clock.advance_us(100)  # a byte takes 87 us at 115200: one or two per poll
        drv.poll()
    assert frames(q) == [t.frame for t in txs] and q.counters["garbage"] == 0


def test_hung_module_reset_and_reconfigured():
    clock, sim, q, drv = setup()
    drv.ping_ms = 10000
    sim.hang()
    run(drv, clock, 11000, step=50)
    assert q.counters["resets"] == 1 and sim.resets == 1 and drv.ready
    # the module kept 115200 in flash: found there at once, no second speed change
    assert sim.baud == 115200 and sim.written.count(b"\xff\x10\x01") == 1
    assert sim.rx_mode == 0x09  # volatile mode sent again after the reset
    txs = transmissions(clock.us + 10000, [("T1", "A"), ("C1", "B")])
    sim.feed(txs)
    run(drv, clock, 300)
    assert frames(q) == [t.frame for t in txs]


def test_alive_module_pinged_not_reset():
    clock, sim, q, drv = setup()
    drv.ping_ms = 5000
    n = len(sim.written)
    run(drv, clock, 11000, step=50)
    assert bytes(sim.written[n:]) == FWV * 2 and q.counters["resets"] == 0


def test_rx_buffer_overflow_counted_nothing_corrupt_passed():
    clock, sim, q, drv = setup(rxbuf=128)
    txs = transmissions(clock.us + 10000, [("C1", "B", 40)] * 6, 6000)
    sim.feed(txs)
    clock.advance_ms(100)  # busy elsewhere: ~420 bytes for a 128-byte buffer
    run(drv, clock, 50)
    got = frames(q)
    assert sim.lost_bytes > 0 and q.counters["overflow"] == 1
    assert got and len(got) < len(txs) and all(g in [t.frame for t in txs] for g in got)
    later = transmissions(clock.us + 10000, [("T1", "A")])
    sim.feed(later)
    run(drv, clock, 200)
    assert frames(q) == [later[0].frame]
